/**
 * Turns what the reader selected in the essay into a W3C selector, counted in Unicode code
 * points exactly as the server counts them (docs/annotations.md): the DOM gives UTF-16
 * positions, which `utf16ToCodePointIndex` converts, and `quoteContext` cuts the quote and its
 * context with the server's own functions.
 */
import { quoteContext, utf16ToCodePointIndex } from "../../../../src/modules/essays/essay.text.ts";

/** A span of one paragraph, ready for annotation:create. */
export interface SelectedSpan {
  paragraphId: string;
  start: number;
  end: number;
  exact: string;
  prefix: string;
  suffix: string;
}

/** Characters of context sent with a quote (the server keeps up to 64 of its own). */
const CONTEXT = 32;

/** Marks an element whose text content is exactly a paragraph's text. */
export const PARAGRAPH_TEXT_ATTRIBUTE = "data-paragraph-text";

/** The UTF-16 position of (node, offset) within `container`'s text. */
function positionIn(container: Element, node: Node, offset: number): number {
  const before = document.createRange();
  before.selectNodeContents(container);
  before.setEnd(node, offset);
  return before.toString().length;
}

/**
 * The span of `range` inside the first paragraph it touches, trimmed of surrounding white space,
 * or undefined when it covers no text of an annotatable paragraph. A selection across several
 * paragraphs is cut to the first one.
 */
export function spanFromRange(
  range: Range,
  root: ParentNode,
  textOf: (paragraphId: string) => string | undefined,
): SelectedSpan | undefined {
  if (range.collapsed) return undefined;
  const containers = root.querySelectorAll<HTMLElement>(`[${PARAGRAPH_TEXT_ATTRIBUTE}]`);
  for (const container of containers) {
    if (!range.intersectsNode(container)) continue;
    const paragraphId = container.getAttribute(PARAGRAPH_TEXT_ATTRIBUTE)!;
    const text = textOf(paragraphId);
    if (text === undefined) return undefined;
    const from = container.contains(range.startContainer)
      ? positionIn(container, range.startContainer, range.startOffset)
      : 0;
    const to = container.contains(range.endContainer)
      ? positionIn(container, range.endContainer, range.endOffset)
      : text.length;
    return spanOfText(paragraphId, text, from, to);
  }
  return undefined;
}

/**
 * The span of `text` between two UTF-16 positions, trimmed of white space at both ends, with
 * offsets in code points; undefined when nothing but white space is left.
 */
export function spanOfText(
  paragraphId: string,
  text: string,
  from: number,
  to: number,
): SelectedSpan | undefined {
  let start = Math.max(0, Math.min(from, to));
  let end = Math.min(text.length, Math.max(from, to));
  while (start < end && /\s/u.test(text[start]!)) start++;
  while (end > start && /\s/u.test(text[end - 1]!)) end--;
  if (start >= end) return undefined;
  const startPoint = utf16ToCodePointIndex(text, start);
  const endPoint = utf16ToCodePointIndex(text, end);
  if (startPoint >= endPoint) return undefined;
  return {
    paragraphId,
    start: startPoint,
    end: endPoint,
    ...quoteContext(text, startPoint, endPoint, CONTEXT),
  };
}
