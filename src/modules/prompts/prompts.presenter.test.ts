import { describe, expect, it } from "vitest";
import {
  presentBallot,
  presentPrompt,
  presentTally,
  presentTallySnapshot,
  type TallyRecord,
} from "./prompts.presenter.ts";

describe("prompt presenters", () => {
  it("presents a prompt field by field, options by position, revealed as a flag", () => {
    const row = {
      id: "p",
      position: 2,
      kind: "scale" as const,
      question: "Agree?",
      paragraphId: null,
      maxChoices: 1,
      anonymous: true,
      resultsVisibility: "after_close" as const,
      state: "closed" as const,
      revealedAt: new Date("2026-01-01T10:00:00Z"),
      openedAt: new Date("2026-01-01T09:00:00Z"),
      closedAt: new Date("2026-01-01T09:30:00Z"),
      options: [
        { id: "o2", position: 1, label: "2 Agree", value: 2 },
        { id: "o1", position: 0, label: "1 Disagree", value: 1 },
      ],
      seminarId: "secret",
    };
    expect(presentPrompt(row)).toEqual({
      id: "p",
      position: 2,
      kind: "scale",
      question: "Agree?",
      paragraphId: null,
      maxChoices: 1,
      anonymous: true,
      resultsVisibility: "after_close",
      state: "closed",
      revealed: true,
      options: [
        { id: "o1", position: 0, label: "1 Disagree", value: 1 },
        { id: "o2", position: 1, label: "2 Agree", value: 2 },
      ],
      openedAt: "2026-01-01T09:00:00.000Z",
      closedAt: "2026-01-01T09:30:00.000Z",
    });
  });

  it("adds voters to a tally only when asked and only when the prompt is named", () => {
    const named: TallyRecord = {
      promptId: "p",
      version: 3,
      counts: { a: 2, b: 1 },
      ballots: 3,
      voters: { a: ["m1", "m2"], b: ["m3"] },
    };
    const anonymous: TallyRecord = { ...named, voters: null };
    expect(presentTally(named, { withVoters: true })).toEqual({ ...named });
    expect(presentTally(named, { withVoters: false })).toEqual({
      promptId: "p",
      version: 3,
      counts: { a: 2, b: 1 },
      ballots: 3,
    });
    expect("voters" in presentTally(named, { withVoters: false })).toBe(false);
    expect("voters" in presentTally(anonymous, { withVoters: true })).toBe(false);
    // Presenting twice never shares state between audiences.
    const view = presentTally(named, { withVoters: true });
    view.voters!.a!.push("x");
    view.counts.a = 99;
    expect(named.voters!.a).toEqual(["m1", "m2"]);
    expect(named.counts.a).toBe(2);
  });

  it("presents a ballot with sorted options and a history entry with numeric counts only", () => {
    expect(
      presentBallot({
        promptId: "p",
        clientBallotId: "c",
        revision: 2,
        choices: [{ optionId: "b" }, { optionId: "a" }],
      }),
    ).toEqual({ promptId: "p", optionIds: ["a", "b"], clientBallotId: "c", revision: 2 });
    expect(
      presentTallySnapshot({
        version: 4,
        counts: { a: 1, b: "x" },
        ballots: 1,
        takenAt: new Date("2026-01-01T00:00:00Z"),
      }),
    ).toEqual({ version: 4, counts: { a: 1 }, ballots: 1, takenAt: "2026-01-01T00:00:00.000Z" });
  });
});
