import { describe, expect, it } from "vitest";
import { AppError } from "../../errors.ts";
import { anchorSelector, decodeCursor, encodeCursor } from "./annotations.service.ts";

const TEXT = "Emoji 😀 and rare characters 𠮷 count as one code point each.";
/** Code-point offset of `part` in TEXT. */
const at = (part: string) => [...TEXT.slice(0, TEXT.indexOf(part))].length;

function validationDetails(run: () => unknown): { path: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("validation_failed");
    return (error as AppError).details as { path: string }[];
  }
  throw new Error("expected validation_failed");
}

describe("anchorSelector", () => {
  it("counts offsets in code points: an emoji and a CJK Extension B character count once", () => {
    const start = at("😀");
    const end = at("𠮷") + 1;
    expect(start).toBe(6);
    expect(end).toBe(29);
    const anchored = anchorSelector(TEXT, { start, end, exact: "😀 and rare characters 𠮷" });
    expect(anchored).toEqual({
      start: 6,
      end: 29,
      exact: "😀 and rare characters 𠮷",
      prefix: "Emoji ",
      suffix: " count as one code point each.",
    });
  });

  it("rejects UTF-16 offsets for the same span (they point past it)", () => {
    const end = TEXT.indexOf("𠮷") + 2;
    const details = validationDetails(() =>
      anchorSelector(TEXT, { start: 6, end, exact: "😀 and rare characters 𠮷" }),
    );
    expect(details.map((d) => d.path)).toEqual(["selector.exact"]);
  });

  it("limits the stored context to the given number of code points", () => {
    const anchored = anchorSelector(TEXT, { start: at("count"), end: at("count") + 5, exact: "count" }, 3);
    expect(anchored.prefix).toBe(" 𠮷 ");
    expect(anchored.prefix).toBe([...TEXT].slice(at("count") - 3, at("count")).join(""));
    expect(anchored.suffix).toBe(" as");
  });

  it("accepts a client prefix and suffix of any length that match, and rejects ones that do not", () => {
    const start = at("rare");
    const end = at(" count");
    const exact = "rare characters 𠮷";
    expect(anchorSelector(TEXT, { start, end, exact, prefix: "😀 and ", suffix: " count" }).exact).toBe(
      exact,
    );
    expect(anchorSelector(TEXT, { start, end, exact, prefix: "", suffix: "" }).exact).toBe(exact);
    const details = validationDetails(() =>
      anchorSelector(TEXT, { start, end, exact, prefix: "😀 or ", suffix: "count" }),
    );
    expect(details.map((d) => d.path)).toEqual(["selector.prefix", "selector.suffix"]);
  });

  it("does not match half of a surrogate pair in the context", () => {
    const start = at(" count");
    const details = validationDetails(() =>
      anchorSelector(TEXT, { start, end: start + 6, exact: " count", prefix: "\uDFB7" }),
    );
    expect(details.map((d) => d.path)).toEqual(["selector.prefix"]);
  });

  it("rejects offsets outside the paragraph", () => {
    const length = [...TEXT].length;
    const details = validationDetails(() =>
      anchorSelector(TEXT, { start: length - 1, end: length + 1, exact: ".x" }),
    );
    expect(details).toEqual([expect.objectContaining({ path: "selector.end", length })]);
    expect(anchorSelector(TEXT, { start: length - 1, end: length, exact: "." }).suffix).toBe("");
  });
});

describe("list cursors", () => {
  it("round-trips and refuses anything else", () => {
    const cursor = {
      createdAt: new Date("2026-03-04T05:06:07.089Z"),
      id: "8d6c2f4e-1c1a-4b7e-9a55-6f1f0f3c2b10",
    };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    for (const bad of ["garbage", Buffer.from("2026-03-04|not-a-uuid").toString("base64url"), ""]) {
      expect(() => decodeCursor(bad)).toThrow(AppError);
    }
  });
});
