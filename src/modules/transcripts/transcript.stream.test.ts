import { describe, expect, it } from "vitest";
import { takeBytes } from "./transcript.stream.ts";

/** A reused chunk buffer: filled with "#" so that what takeBytes did not write shows. */
const used = (capacity: number) => new Uint8Array(capacity).fill("#".charCodeAt(0));
const text = (bytes: Uint8Array, length = bytes.byteLength) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, length).toString("utf8");

describe("takeBytes", () => {
  it("fills the buffer it is given from the start and leaves the rest of it alone", () => {
    const into = used(8);
    const rest = takeBytes([Buffer.from("abcdef"), Buffer.from("gh")], 6, into);
    expect(text(into)).toBe("abcdef##");
    expect(rest.map(String)).toEqual(["gh"]);
  });

  it("cuts a chunk out of several pieces and keeps the remainder in order", () => {
    const pieces = [Buffer.from("abc"), Buffer.from("defgh"), Buffer.from("ij")];
    const into = used(5);
    const rest = takeBytes(pieces, 5, into);
    expect(text(into)).toBe("abcde");
    expect(rest.map(String)).toEqual(["fgh", "ij"]);
    // The same buffer again, as a download reuses it once the response side gives it back.
    expect(takeBytes(rest, 5, into)).toEqual([]);
    expect(text(into)).toBe("fghij");
  });

  it("splits one large piece into chunks of the size asked", () => {
    const large = Buffer.from("x".repeat(10) + "y".repeat(10) + "z".repeat(5));
    const chunks: string[] = [];
    const into = used(10);
    let rest: Buffer[] = [large];
    while (rest.length > 0) {
      const size = Math.min(
        10,
        rest.reduce((sum, piece) => sum + piece.byteLength, 0),
      );
      rest = takeBytes(rest, size, into);
      chunks.push(text(into, size));
    }
    expect(chunks).toEqual(["x".repeat(10), "y".repeat(10), "z".repeat(5)]);
  });
});
