import { create, parse } from "content-disposition";
import { describe, expect, it } from "vitest";
import { transcriptFileName } from "./transcript.files.ts";

describe("transcriptFileName", () => {
  it("keeps a CJK title and falls back to ASCII", () => {
    const name = transcriptFileName("人工智慧的啟示", { format: "json", anonymized: false });
    expect(name).toEqual({ name: "人工智慧的啟示-transcript.json", ascii: "seminar-transcript.json" });
    const header = create(name.name, { fallback: name.ascii });
    expect(header).toMatch(/^attachment; filename="?seminar-transcript\.json"?; filename\*=UTF-8''%E4%BA%BA/);
    expect(parse(header).parameters.filename).toBe(name.name);
  });

  it("drops path, quote and control characters and names the table and the variant", () => {
    const name = transcriptFileName('../../etc/"passwd"\u202e\r\nÉtude', {
      format: "csv",
      table: "ballots",
      anonymized: true,
    });
    expect(name.name).toBe("etc-passwd-Étude-ballots-anonymized.csv");
    expect(name.ascii).toBe("etc-passwd-Etude-ballots-anonymized.csv");
    expect(create(name.name, { fallback: name.ascii })).not.toMatch(/[\r\n]/);
  });

  it("names an empty title and cuts a long one", () => {
    expect(transcriptFileName("///", { format: "zip", anonymized: false }).name).toBe(
      "seminar-transcript.zip",
    );
    const long = transcriptFileName("字".repeat(300), { format: "md", anonymized: false }).name;
    expect([...long].length).toBe(80 + "-transcript.md".length);
  });
});
