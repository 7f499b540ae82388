/**
 * Unicode helpers for essays. Every offset here is counted in Unicode code points (not UTF-16 code
 * units), so an emoji such as 😀 or a CJK Extension B character such as 𠮷 counts as one. These are
 * the offsets that W3C TextPositionSelector / TextQuoteSelector anchors use.
 *
 * A lone (unpaired) surrogate counts as one code point, exactly as `for…of` and `Array.from` see it.
 */

/** One line of normalised source text, with the indentation it had before it was trimmed. */
export interface NormalizedLine {
  /** The tidied line: NFC, trimmed, runs of spaces/tabs collapsed to one space. */
  text: string;
  /** Leading indentation of the original line in columns (a tab advances to the next multiple of 4). */
  indent: number;
}

/** Whether the UTF-16 unit at `index` starts a surrogate pair (so the code point takes two units). */
function isPairAt(s: string, index: number): boolean {
  const high = s.charCodeAt(index);
  if (high < 0xd800 || high > 0xdbff || index + 1 >= s.length) return false;
  const low = s.charCodeAt(index + 1);
  return low >= 0xdc00 && low <= 0xdfff;
}

/** Number of Unicode code points in `s` (😀 and 𠮷 count as one each). */
export function codePointLength(s: string): number {
  let count = 0;
  for (let i = 0; i < s.length; i += isPairAt(s, i) ? 2 : 1) count++;
  return count;
}

/**
 * Converts a code-point offset into a UTF-16 index of `s`. Offsets past the end give `s.length`;
 * negative offsets give 0.
 */
export function codePointToUtf16Index(s: string, codePointIndex: number): number {
  let index = 0;
  for (let cp = 0; cp < codePointIndex && index < s.length; cp++) index += isPairAt(s, index) ? 2 : 1;
  return index;
}

/**
 * Converts a UTF-16 index of `s` into a code-point offset (the number of code points that start
 * before it). An index in the middle of a surrogate pair maps to the offset after that pair.
 */
export function utf16ToCodePointIndex(s: string, utf16Index: number): number {
  const limit = Math.min(Math.max(0, utf16Index), s.length);
  let cp = 0;
  for (let i = 0; i < limit; i += isPairAt(s, i) ? 2 : 1) cp++;
  return cp;
}

/** ToIntegerOrInfinity, as `Array.prototype.slice` applies it to its arguments. */
function toInteger(n: number): number {
  if (Number.isNaN(n)) return 0;
  return Math.trunc(n);
}

/**
 * `s.slice(start, end)` with offsets in code points. Like `Array.prototype.slice`: negative offsets
 * count from the end, offsets are clamped to the string, `end` defaults to the end, and an empty
 * string is returned when `start >= end`.
 */
export function sliceCodePoints(s: string, start: number, end?: number): string {
  let from = toInteger(start);
  let to = end === undefined ? Number.POSITIVE_INFINITY : toInteger(end);
  if (from < 0 || to < 0) {
    const length = codePointLength(s);
    if (from < 0) from = Math.max(0, length + from);
    if (to < 0) to = Math.max(0, length + to);
  }
  if (from >= to) return "";
  let index = 0;
  let cp = 0;
  while (cp < from && index < s.length) {
    index += isPairAt(s, index) ? 2 : 1;
    cp++;
  }
  const startIndex = index;
  while (cp < to && index < s.length) {
    index += isPairAt(s, index) ? 2 : 1;
    cp++;
  }
  return s.slice(startIndex, index);
}

/** The text a TextQuoteSelector needs: the quoted text and up to `size` code points either side. */
export interface QuoteContext {
  exact: string;
  prefix: string;
  suffix: string;
}

/**
 * Builds the TextQuoteSelector parts for the code-point range [start, end) of `text`: `exact` is the
 * range itself, `prefix` the (up to) `size` code points before it and `suffix` the (up to) `size`
 * code points after it. Throws a RangeError unless 0 ≤ start ≤ end ≤ codePointLength(text) and
 * `size` is a non-negative integer.
 */
export function quoteContext(text: string, start: number, end: number, size = 32): QuoteContext {
  const length = codePointLength(text);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > length) {
    throw new RangeError(`Invalid code-point range [${start}, ${end}) for a text of ${length} code points.`);
  }
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`Invalid context size ${size}.`);
  return {
    exact: sliceCodePoints(text, start, end),
    prefix: sliceCodePoints(text, Math.max(0, start - size), start),
    suffix: sliceCodePoints(text, end, end + size),
  };
}

/**
 * Tidies one line without changing what a reader sees: runs of spaces and tabs become one space, and
 * whitespace at both ends is removed (including the ideographic space U+3000 and no-break spaces).
 * Whitespace inside the line other than spaces and tabs (for example U+3000) is kept.
 */
export function tidyLine(line: string): string {
  return line.replace(/[ \t]+/g, " ").trim();
}

/** Leading indentation of a raw line in columns: a space is 1, a tab advances to the next multiple of 4. */
function indentOf(line: string): number {
  let columns = 0;
  for (const ch of line) {
    if (ch === " ") columns++;
    else if (ch === "\t") columns += 4 - (columns % 4);
    else break;
  }
  return columns;
}

/**
 * Splits source text into tidied lines: strips byte-order marks (U+FEFF), normalises to NFC,
 * turns CRLF/CR (and U+2028, form feed, vertical tab) into LF and U+2029 into a blank line, drops
 * invisible control characters, then tidies each line (see `tidyLine`). Blank lines are kept as
 * empty strings so that paragraph breaks survive.
 */
export function normalizeLines(source: string): NormalizedLine[] {
  const text = source
    .replace(/\uFEFF/g, "")
    .normalize("NFC")
    .replace(/\r\n?|[\u2028\f\v]/g, "\n")
    .replace(/\u2029/g, "\n\n")
    // C0 controls except tab and LF, DEL and C1 controls: a reader never sees them.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
    .replace(/[\u0000-\u0008\u000E-\u001F\u007F-\u009F]/g, "");
  return text.split("\n").map((line) => ({ text: tidyLine(line), indent: indentOf(line) }));
}

/**
 * Normalises text the way the importer does, so that stored essay text and annotation anchors can
 * be compared: NFC, BOM removed, LF line ends, every line tidied (see `tidyLine`), runs of blank
 * lines collapsed to one, and blank lines at the start and end removed.
 */
export function normalizeText(text: string): string {
  const lines = normalizeLines(text).map((line) => line.text);
  const out: string[] = [];
  for (const line of lines) {
    if (line === "" && (out.length === 0 || out[out.length - 1] === "")) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out.join("\n");
}
