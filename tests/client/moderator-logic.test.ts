/**
 * The moderator pages' pure parts, without a browser: the prompt form's input and checks, the
 * option labels a scale gets, field messages from zod and the server, and transcript file names.
 */
import { describe, expect, it } from "vitest";
import { attachmentName, transcriptPath } from "../../client/src/connection/moderator-api.ts";
import {
  crossCheck,
  EMPTY,
  fieldsOf,
  optionLabels,
  toInput,
} from "../../client/src/features/moderator/prompt-form.ts";
import { fieldErrors, phrase } from "../../client/src/ui/form-errors.ts";
import { PromptInput, RegisterInput } from "../../src/protocol/schemas.ts";
import type { PromptView } from "../../src/protocol/views.ts";

describe("the prompt form", () => {
  it("turns typed fields into a prompt of each kind the protocol accepts", () => {
    const single = PromptInput.parse(toInput({ ...EMPTY, question: " Yes? ", options: "Yes\n\n No \n" }));
    expect(single).toEqual({
      kind: "single_choice",
      question: "Yes?",
      options: ["Yes", "No"],
      anonymous: true,
      resultsVisibility: "live",
    });
    const multiple = PromptInput.parse(
      toInput({
        ...EMPTY,
        kind: "multiple_choice",
        question: "Which?",
        options: "A\nB\nC",
        maxChoices: "2",
        anonymous: false,
      }),
    );
    expect(multiple).toMatchObject({ kind: "multiple_choice", maxChoices: 2, anonymous: false });
    const scale = PromptInput.parse(
      toInput({
        ...EMPTY,
        kind: "scale",
        question: "Agree?",
        min: "1",
        max: "5",
        maxLabel: "Agree",
        resultsVisibility: "after_close",
      }),
    );
    expect(scale).toMatchObject({ kind: "scale", min: 1, max: 5, minLabel: undefined, maxLabel: "Agree" });
    expect(optionLabels(scale)).toEqual(["1", "2", "3", "4", "5 Agree"]);
    expect(optionLabels(single)).toEqual(["Yes", "No"]);
  });

  it("fills the form from a stored prompt, so that saving it unchanged gives the same definition", () => {
    const stored = (overrides: Partial<PromptView>, labels: [string, number | null][]): PromptView => ({
      id: "p",
      position: 0,
      kind: "single_choice",
      question: "Q?",
      paragraphId: null,
      maxChoices: 1,
      anonymous: true,
      resultsVisibility: "live",
      state: "draft",
      revealed: false,
      options: labels.map(([label, value], position) => ({ id: `o${position}`, position, label, value })),
      openedAt: null,
      closedAt: null,
      ...overrides,
    });
    const multiple = stored({ kind: "multiple_choice", maxChoices: 2, anonymous: false }, [
      ["A", null],
      ["B", null],
      ["C", null],
    ]);
    expect(PromptInput.parse(toInput(fieldsOf(multiple)))).toEqual({
      kind: "multiple_choice",
      question: "Q?",
      options: ["A", "B", "C"],
      maxChoices: 2,
      anonymous: false,
      resultsVisibility: "live",
    });
    const scale = stored({ kind: "scale", resultsVisibility: "after_close" }, [
      ["-2 Disagree", -2],
      ["-1", -1],
      ["0", 0],
      ["1", 1],
      ["2 Agree 2", 2],
    ]);
    expect(fieldsOf(scale)).toMatchObject({ min: "-2", max: "2", minLabel: "Disagree", maxLabel: "Agree 2" });
    const again = PromptInput.parse(toInput(fieldsOf(scale)));
    expect(optionLabels(again)).toEqual(scale.options.map((option) => option.label));
    const unlabelled = stored({ kind: "scale" }, [
      ["1", 1],
      ["2", 2],
      ["3", 3],
    ]);
    expect(fieldsOf(unlabelled)).toMatchObject({ min: "1", max: "3", minLabel: "", maxLabel: "" });
  });

  it("refuses what the schema cannot: a limit above the options, a scale that does not rise or is too long", () => {
    const tooMany = PromptInput.parse(
      toInput({ ...EMPTY, kind: "multiple_choice", question: "Q", options: "A\nB", maxChoices: "3" }),
    );
    expect(fieldErrors(crossCheck(tooMany))).toEqual({
      maxChoices: "must be at most the number of options (2)",
    });
    const flat = PromptInput.parse(toInput({ ...EMPTY, kind: "scale", question: "Q", min: "3", max: "3" }));
    expect(fieldErrors(crossCheck(flat))).toEqual({ max: "must be above the lowest value" });
    const long = PromptInput.parse(
      toInput({ ...EMPTY, kind: "scale", question: "Q", min: "-10", max: "10" }),
    );
    expect(fieldErrors(crossCheck(long))).toEqual({ max: "allows at most 11 points" });
    const fine = PromptInput.parse(toInput({ ...EMPTY, kind: "scale", question: "Q", min: "0", max: "10" }));
    expect(crossCheck(fine)).toBeUndefined();
    // An empty number is NaN, which the schema refuses in words.
    const blank = PromptInput.safeParse(
      toInput({ ...EMPTY, kind: "multiple_choice", question: "Q", options: "A\nB", maxChoices: "" }),
    );
    expect(blank.success).toBe(false);
    expect(phrase(blank.error!.issues[0]!.message)).toBe("must be a number");
  });
});

describe("field messages", () => {
  it("says zod's messages as the end of a sentence and keeps the first per field", () => {
    const parsed = RegisterInput.safeParse({ email: "nope", password: "short", displayName: " " });
    const details = parsed.error!.issues.map((issue) => ({
      path: issue.path.join("."),
      message: issue.message,
    }));
    expect(fieldErrors({ code: "validation_failed", message: "", details })).toEqual({
      email: "is not a valid e-mail address",
      password: "must be at least 10 characters long",
      displayName: "must not be empty",
    });
    expect(phrase("Too small: expected array to have >=2 items")).toBe("need at least 2 entries");
    expect(phrase("Too big: expected number to be <=10")).toBe("must be at most 10");
    expect(phrase("must not contain NUL characters")).toBe("must not contain NUL characters");
    expect(
      fieldErrors({ code: "conflict", message: "taken", details: [{ path: "email", message: "x" }] }),
    ).toEqual({});
  });
});

describe("transcript downloads", () => {
  it("builds the query the server reads, with a table only for CSV", () => {
    const id = "6f1c1b5e-8d2a-4a57-9c1e-6d1c9b1f0a11";
    expect(transcriptPath(id, { format: "json", anonymized: false })).toBe(
      `/api/seminars/${id}/transcript?format=json`,
    );
    expect(transcriptPath(id, { format: "csv", anonymized: true, table: "ballots" })).toBe(
      `/api/seminars/${id}/transcript?format=csv&anonymized=true&table=ballots`,
    );
    expect(transcriptPath(id, { format: "md", anonymized: false, table: "ballots" })).toBe(
      `/api/seminars/${id}/transcript?format=md`,
    );
  });

  it("reads the file name from Content-Disposition, UTF-8 first", () => {
    expect(
      attachmentName(
        `attachment; filename="seminar-transcript.json"; filename*=UTF-8''%E5%85%B1%E8%AE%80-transcript.json`,
        "x",
      ),
    ).toBe("共讀-transcript.json");
    expect(attachmentName(`attachment; filename="plain.csv"`, "x")).toBe("plain.csv");
    expect(attachmentName(`attachment; filename*=UTF-8''%E0%A4%A`, "fallback.md")).toBe("fallback.md");
    expect(attachmentName(null, "fallback.md")).toBe("fallback.md");
  });
});
