import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { describe, expect, it } from "vitest";
import { neutralizeCell } from "./transcript.csv.ts";

describe("neutralizeCell", () => {
  it.each([
    ["=SUM(A1:A9)", "'=SUM(A1:A9)"],
    ["+1+1", "'+1+1"],
    ["-2+3", "'-2+3"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\t=1", "'\t=1"],
    ["\r=1", "'\r=1"],
    ["＝1+1", "'＝1+1"],
    ['=HYPERLINK("https://evil.example","x")', `'=HYPERLINK("https://evil.example","x")`],
  ])("makes %j inert", (value, expected) => {
    expect(neutralizeCell(value)).toBe(expected);
  });

  it.each(["plain", "a=b", "1-2", "開放模型", "", "'quoted"])("leaves %j alone", (value) => {
    expect(neutralizeCell(value)).toBe(value);
  });

  it("round-trips hostile cells through RFC 4180 quoting", () => {
    const cells = ['say "hi", then\r\nleave', "=1", "中文，逗號", "tab\tinside"];
    const text = stringify([cells], { record_delimiter: "windows", cast: { string: neutralizeCell } });
    expect(parse(text, { record_delimiter: "\r\n" })).toEqual([cells.map(neutralizeCell)]);
  });
});
