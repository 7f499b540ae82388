import { describe, expect, it } from "vitest";
import {
  AnnotationBody,
  AnnotationTags,
  CreateAnnotationInput,
  EditAnnotationInput,
  ListAnnotationsQuery,
  REACTION_KINDS,
  ReactAnnotationInput,
} from "../../protocol/annotations.ts";
import { LIMITS } from "../../protocol/limits.ts";

const paragraphId = "8d6c2f4e-1c1a-4b7e-9a55-6f1f0f3c2b10";

describe("annotation payload schemas", () => {
  it("trims and NFC-normalises bodies, keeps newlines and tabs, turns CRLF into LF", () => {
    expect(AnnotationBody.parse("  Cafe\u0301 \r\nsecond\tline\n ")).toBe("Café \nsecond\tline");
  });

  it("rejects empty, over-long and control-character bodies", () => {
    expect(AnnotationBody.safeParse(" \n\t ").success).toBe(false);
    expect(AnnotationBody.safeParse("x".repeat(LIMITS.annotationBody.max + 1)).success).toBe(false);
    expect(AnnotationBody.safeParse("bell\u0007").success).toBe(false);
    expect(AnnotationBody.safeParse("escape\u001b[31m").success).toBe(false);
    expect(AnnotationBody.safeParse("c1\u0085").success).toBe(false);
  });

  it("counts the body limit in code points: 4,000 emoji fit", () => {
    expect(AnnotationBody.safeParse("😀".repeat(LIMITS.annotationBody.max)).success).toBe(true);
    expect(AnnotationBody.safeParse("😀".repeat(LIMITS.annotationBody.max + 1)).success).toBe(false);
  });

  it("lower-cases, trims and de-duplicates tags, and accepts letters of any script", () => {
    expect(AnnotationTags.parse([" Ethics ", "ethics", "開放", "open_source-2", "ÉTÉ"])).toEqual([
      "ethics",
      "開放",
      "open_source-2",
      "été",
    ]);
  });

  it("rejects bad tags and too many of them", () => {
    expect(AnnotationTags.safeParse([""]).success).toBe(false);
    expect(AnnotationTags.safeParse(["two words"]).success).toBe(false);
    expect(AnnotationTags.safeParse(["#hash"]).success).toBe(false);
    expect(AnnotationTags.safeParse(["x".repeat(LIMITS.annotationTags.chars + 1)]).success).toBe(false);
    expect(AnnotationTags.safeParse(["𠮷".repeat(LIMITS.annotationTags.chars)]).success).toBe(true);
    const many = Array.from({ length: LIMITS.annotationTags.max + 1 }, (_, i) => `t${i}`);
    expect(AnnotationTags.safeParse(many).success).toBe(false);
  });

  it("accepts a whole-paragraph comment and a highlight; tags default to none", () => {
    expect(CreateAnnotationInput.parse({ paragraphId, body: "Whole" })).toEqual({
      paragraphId,
      body: "Whole",
      tags: [],
    });
    const parsed = CreateAnnotationInput.parse({
      paragraphId,
      body: "Span",
      selector: { start: 2, end: 5, exact: "abc", prefix: "xy" },
      clientId: "c-1",
    });
    expect(parsed.selector).toEqual({ start: 2, end: 5, exact: "abc", prefix: "xy" });
  });

  it("rejects start >= end, negative or fractional offsets, an empty quote and long clientIds", () => {
    const bad = [
      { start: 5, end: 2, exact: "abc" },
      { start: 3, end: 3, exact: "abc" },
      { start: -1, end: 2, exact: "abc" },
      { start: 0.5, end: 2, exact: "abc" },
      { start: 0, end: 2, exact: "" },
      { start: "0", end: 2, exact: "ab" },
    ];
    for (const selector of bad) {
      expect(CreateAnnotationInput.safeParse({ paragraphId, body: "x", selector }).success).toBe(false);
    }
    expect(
      CreateAnnotationInput.safeParse({ paragraphId, body: "x", clientId: "c".repeat(65) }).success,
    ).toBe(false);
    expect(CreateAnnotationInput.safeParse({ paragraphId: "p-1", body: "x" }).success).toBe(false);
  });

  it("knows the fixed set of reactions and nothing else", () => {
    expect(REACTION_KINDS).toContain("agree");
    expect(ReactAnnotationInput.safeParse({ annotationId: paragraphId, kind: "agree" }).success).toBe(true);
    expect(ReactAnnotationInput.safeParse({ annotationId: paragraphId, kind: "angry" }).success).toBe(false);
  });

  it("keeps tags unset on an edit that does not mention them", () => {
    expect(EditAnnotationInput.parse({ annotationId: paragraphId, body: "b" }).tags).toBeUndefined();
  });

  it("parses list queries from strings, with limits 1..200 and default 50", () => {
    expect(ListAnnotationsQuery.parse({}).limit).toBe(50);
    expect(ListAnnotationsQuery.parse({ limit: "7", tag: "Ethics" })).toEqual({ limit: 7, tag: "ethics" });
    expect(ListAnnotationsQuery.safeParse({ limit: "0" }).success).toBe(false);
    expect(ListAnnotationsQuery.safeParse({ limit: "201" }).success).toBe(false);
    expect(ListAnnotationsQuery.safeParse({ paragraphId: ["a", "b"] }).success).toBe(false);
  });
});
