/**
 * Cuts a paragraph's text into runs covered by the same highlights, so overlapping highlights
 * render as nested shades of one colour (the text itself never changes colour and stays
 * readable). Offsets come in Unicode code points, as the server stores them, and are turned
 * into UTF-16 string positions here, once per boundary. Pure: no DOM.
 */
import type { AnnotationView } from "../../../../src/protocol/views.ts";

/** A highlighted span of a paragraph, in code points (end exclusive). */
export interface HighlightRange {
  id: string;
  start: number;
  end: number;
}

/** A run of text and the highlights covering it (none: plain text). */
export interface Segment {
  text: string;
  /** Code-point offset of the run's first character. */
  start: number;
  /** Ids of the highlights covering the run, shortest highlight first. */
  ids: string[];
  /** Whether the span being commented on (not yet sent) covers the run. */
  draft: boolean;
}

/** The highlights of a paragraph: its visible root annotations with a selector. */
export function highlightRanges(annotations: readonly AnnotationView[]): HighlightRange[] {
  const ranges: HighlightRange[] = [];
  for (const annotation of annotations) {
    if (annotation.parentId || !annotation.selector || annotation.deleted || annotation.hidden) continue;
    ranges.push({ id: annotation.id, start: annotation.selector.start, end: annotation.selector.end });
  }
  return ranges;
}

/**
 * Splits `text` at every highlight boundary. `draft` marks the span the reader is commenting on.
 * Ranges outside the text are clamped; empty ranges are ignored.
 */
export function segmentText(
  text: string,
  ranges: readonly HighlightRange[],
  draft?: { start: number; end: number },
): Segment[] {
  // Code points, so that offsets index them directly (an emoji or 𠮷 is one entry).
  const chars = Array.from(text);
  const length = chars.length;
  const cuts = new Set<number>([0, length]);
  for (const range of draft ? [...ranges, draft] : ranges) {
    if (range.end <= range.start) continue;
    cuts.add(clamp(range.start, length));
    cuts.add(clamp(range.end, length));
  }
  const points = [...cuts].sort((a, b) => a - b);
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i]!;
    const end = points[i + 1]!;
    const covering = ranges
      .filter((range) => range.start <= start && range.end >= end && range.end > range.start)
      .sort((a, b) => a.end - a.start - (b.end - b.start));
    segments.push({
      text: chars.slice(start, end).join(""),
      start,
      ids: covering.map((range) => range.id),
      draft: draft !== undefined && draft.start <= start && draft.end >= end,
    });
  }
  return segments;
}

function clamp(offset: number, length: number): number {
  return Math.min(Math.max(0, offset), length);
}
