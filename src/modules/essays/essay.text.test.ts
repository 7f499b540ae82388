import { describe, expect, it } from "vitest";
import {
  codePointLength,
  codePointToUtf16Index,
  normalizeLines,
  normalizeText,
  quoteContext,
  sliceCodePoints,
  tidyLine,
  utf16ToCodePointIndex,
} from "./essay.text.ts";

const GRIN = "😀"; // U+1F600, two UTF-16 units
const YOSHI = "𠮷"; // U+20BB7 (CJK Extension B), two UTF-16 units
const MIXED = `a${GRIN}b${YOSHI}c`; // code points: a 😀 b 𠮷 c

describe("codePointLength", () => {
  it("counts emoji and Extension B characters as one code point each", () => {
    expect(GRIN.length).toBe(2);
    expect(codePointLength(GRIN)).toBe(1);
    expect(codePointLength(YOSHI)).toBe(1);
    expect(codePointLength(MIXED)).toBe(5);
    expect(MIXED.length).toBe(7);
  });

  it("counts the empty string, BMP CJK, combining marks and lone surrogates exactly", () => {
    expect(codePointLength("")).toBe(0);
    expect(codePointLength("魚眼觀察")).toBe(4);
    expect(codePointLength("e\u0301")).toBe(2);
    expect(codePointLength("\uD83D")).toBe(1);
    expect(codePointLength("\uDE00x")).toBe(2);
  });
});

describe("sliceCodePoints", () => {
  it("slices by code points, never splitting a surrogate pair", () => {
    expect(sliceCodePoints(MIXED, 1, 4)).toBe(`${GRIN}b${YOSHI}`);
    expect(sliceCodePoints(MIXED, 1, 2)).toBe(GRIN);
    expect(sliceCodePoints(MIXED, 3, 4)).toBe(YOSHI);
    expect(sliceCodePoints(MIXED, 3)).toBe(`${YOSHI}c`);
    expect(sliceCodePoints(MIXED, 0, 0)).toBe("");
  });

  it("behaves like Array.prototype.slice for negative, reversed and out-of-range offsets", () => {
    expect(sliceCodePoints(MIXED, -2)).toBe(`${YOSHI}c`);
    expect(sliceCodePoints(MIXED, 1, -1)).toBe(`${GRIN}b${YOSHI}`);
    expect(sliceCodePoints(MIXED, 4, 2)).toBe("");
    expect(sliceCodePoints(MIXED, 2, 99)).toBe(`b${YOSHI}c`);
    expect(sliceCodePoints(MIXED, -99, 1)).toBe("a");
    expect(sliceCodePoints(MIXED, 1.9, 2.9)).toBe(GRIN);
  });

  it("agrees with Array.from on a mixed CJK/emoji string for every range", () => {
    const text = `甲${YOSHI}乙${GRIN}丙ab`;
    const points = Array.from(text);
    for (let start = 0; start <= points.length; start++) {
      for (let end = start; end <= points.length; end++) {
        expect(sliceCodePoints(text, start, end)).toBe(points.slice(start, end).join(""));
      }
    }
  });
});

describe("code point ↔ UTF-16 index conversion", () => {
  it("maps offsets both ways around surrogate pairs", () => {
    expect(codePointToUtf16Index(MIXED, 0)).toBe(0);
    expect(codePointToUtf16Index(MIXED, 2)).toBe(3);
    expect(codePointToUtf16Index(MIXED, 4)).toBe(6);
    expect(codePointToUtf16Index(MIXED, 5)).toBe(7);
    expect(codePointToUtf16Index(MIXED, 50)).toBe(7);
    expect(utf16ToCodePointIndex(MIXED, 3)).toBe(2);
    expect(utf16ToCodePointIndex(MIXED, 6)).toBe(4);
    expect(utf16ToCodePointIndex(MIXED, 2)).toBe(2);
    expect(utf16ToCodePointIndex(MIXED, 99)).toBe(5);
  });
});

describe("quoteContext", () => {
  const text = `ab${GRIN}cd${YOSHI}ef`; // a0 b1 😀2 c3 d4 𠮷5 e6 f7

  it("returns exact, prefix and suffix counted in code points", () => {
    expect(quoteContext(text, 2, 5, 2)).toEqual({ exact: `${GRIN}cd`, prefix: "ab", suffix: `${YOSHI}e` });
    expect(quoteContext(text, 5, 6, 1)).toEqual({ exact: YOSHI, prefix: "d", suffix: "e" });
  });

  it("clips the context at the ends of the text and defaults to 32 code points", () => {
    expect(quoteContext(text, 0, 1)).toEqual({ exact: "a", prefix: "", suffix: `b${GRIN}cd${YOSHI}ef` });
    const long = `${"x".repeat(40)}${GRIN}${"y".repeat(40)}`;
    const context = quoteContext(long, 40, 41);
    expect(context.exact).toBe(GRIN);
    expect(context.prefix).toBe("x".repeat(32));
    expect(context.suffix).toBe("y".repeat(32));
    expect(quoteContext(text, 8, 8, 3)).toEqual({ exact: "", prefix: `${YOSHI}ef`, suffix: "" });
  });

  it("refuses ranges outside the text and invalid sizes", () => {
    expect(() => quoteContext(text, 0, 9)).toThrow(RangeError);
    expect(() => quoteContext(text, 3, 2)).toThrow(RangeError);
    expect(() => quoteContext(text, -1, 2)).toThrow(RangeError);
    expect(() => quoteContext(text, 0.5, 2)).toThrow(RangeError);
    expect(() => quoteContext(text, 0, 2, -1)).toThrow(RangeError);
  });
});

describe("tidyLine and normalizeText", () => {
  it("collapses runs of spaces and tabs and trims, including U+3000 at the ends", () => {
    expect(tidyLine("  a \t  b\t\tc  ")).toBe("a b c");
    expect(tidyLine("\u3000\u3000段落開始\u3000")).toBe("段落開始");
    expect(tidyLine("甲\u3000乙")).toBe("甲\u3000乙");
  });

  it("composes decomposed characters (NFC)", () => {
    const decomposed = "Cafe\u0301 cre\u0300me";
    expect(decomposed.length).toBe(12);
    const normalized = normalizeText(decomposed);
    expect(normalized).toBe("Caf\u00e9 cr\u00e8me");
    expect(normalized.length).toBe(10);
  });

  it("strips the BOM, converts CRLF and CR to LF, collapses blank lines and trims the text", () => {
    expect(normalizeText("\uFEFF\r\n\r\nTitle\r\nline two\rline three\n\n\n\nnext  para \n\n")).toBe(
      "Title\nline two\nline three\n\nnext para",
    );
  });

  it("removes invisible control characters but keeps tabs as spaces", () => {
    expect(normalizeText("a\u0000b\u0007c\td\u0085e")).toBe("abc de");
  });

  it("turns U+2028 into a line break and U+2029 into a paragraph break", () => {
    expect(normalizeText("one\u2028two\u2029three")).toBe("one\ntwo\n\nthree");
  });

  it("keeps the indentation of each line before trimming it", () => {
    expect(normalizeLines("- item\n  continued\n\tcode\n\u3000全角")).toEqual([
      { text: "- item", indent: 0 },
      { text: "continued", indent: 2 },
      { text: "code", indent: 4 },
      { text: "全角", indent: 0 },
    ]);
  });
});
