import { describe, expect, it } from "vitest";
import { takeBytes } from "./transcript.stream.ts";

const text = (bytes: ArrayBuffer) => Buffer.from(bytes).toString("utf8");

describe("takeBytes", () => {
  it("moves a piece that owns its whole buffer as it is", () => {
    const piece = Buffer.from(new TextEncoder().encode("abcdef").buffer);
    const { bytes, rest } = takeBytes([piece, Buffer.from("gh")], 6);
    expect(bytes).toBe(piece.buffer);
    expect(rest.map(String)).toEqual(["gh"]);
  });

  it("cuts a chunk out of several pieces and keeps the remainder in order", () => {
    const pieces = [Buffer.from("abc"), Buffer.from("defgh"), Buffer.from("ij")];
    const first = takeBytes(pieces, 5);
    expect(text(first.bytes)).toBe("abcde");
    expect(first.rest.map(String)).toEqual(["fgh", "ij"]);
    const second = takeBytes(first.rest, 5);
    expect(text(second.bytes)).toBe("fghij");
    expect(second.rest).toEqual([]);
  });

  it("splits one large piece into chunks of the size asked", () => {
    const large = Buffer.from("x".repeat(10) + "y".repeat(10) + "z".repeat(5));
    const chunks: string[] = [];
    let rest: Buffer[] = [large];
    while (rest.length > 0) {
      const size = Math.min(
        10,
        rest.reduce((sum, piece) => sum + piece.byteLength, 0),
      );
      const taken = takeBytes(rest, size);
      chunks.push(text(taken.bytes));
      rest = taken.rest;
    }
    expect(chunks).toEqual(["x".repeat(10), "y".repeat(10), "z".repeat(5)]);
  });
});
