/** Paragraph numbers as readers see them: annotatable blocks counted from 1 (section markers skipped). */
import { ANNOTATABLE_BLOCK_KINDS } from "../../../../src/protocol/annotations.ts";
import type { EssayView } from "../../../../src/protocol/views.ts";

const ANNOTATABLE = new Set<string>(ANNOTATABLE_BLOCK_KINDS);
const cache = new WeakMap<EssayView, Map<string, number>>();

/** Whether a block kind can carry comments. */
export function isAnnotatable(kind: string): boolean {
  return ANNOTATABLE.has(kind);
}

/** Paragraph id -> its number (only annotatable blocks have one). */
export function paragraphNumbers(essay: EssayView): Map<string, number> {
  let numbers = cache.get(essay);
  if (!numbers) {
    numbers = new Map();
    let next = 0;
    for (const paragraph of essay.paragraphs)
      if (isAnnotatable(paragraph.kind)) numbers.set(paragraph.id, ++next);
    cache.set(essay, numbers);
  }
  return numbers;
}
