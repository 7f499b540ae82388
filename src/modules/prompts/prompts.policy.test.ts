import { describe, expect, it } from "vitest";
import type { MemberRole } from "../../protocol/views.ts";
import type { Actor } from "../seminars/seminars.policy.ts";
import {
  ballotProblem,
  canClose,
  canManagePrompts,
  canOpen,
  canReopen,
  canReveal,
  canSeeTally,
  canSeeVoters,
  isAcceptingBallots,
  isEditable,
  isPreparable,
  isRunnable,
  isVisibleToParticipants,
  type PromptFacts,
} from "./prompts.policy.ts";

const actor = (role: MemberRole): Actor => ({ role, memberId: "m", seminarId: "s" });
const facts = (overrides: Partial<PromptFacts> = {}): PromptFacts => ({
  state: "open",
  resultsVisibility: "live",
  revealedAt: null,
  anonymous: true,
  ...overrides,
});

describe("prompt life-cycle policy", () => {
  it("lets moderators manage prompts, nobody else", () => {
    expect(canManagePrompts(actor("host"))).toBe(true);
    expect(canManagePrompts(actor("co_moderator"))).toBe(true);
    expect(canManagePrompts(actor("participant"))).toBe(false);
    expect(canManagePrompts(actor("observer"))).toBe(false);
  });

  it("prepares prompts until the seminar ends, runs them only while it is live", () => {
    expect([
      isPreparable({ state: "draft", locked: false }),
      isPreparable({ state: "live", locked: true }),
    ]).toEqual([true, true]);
    expect(isPreparable({ state: "ended", locked: false })).toBe(false);
    expect(isRunnable({ state: "live", locked: true })).toBe(true);
    expect(isRunnable({ state: "draft", locked: false })).toBe(false);
    expect(isRunnable({ state: "ended", locked: false })).toBe(false);
  });

  it("moves draft -> open -> closed -> open, and reveals once after opening", () => {
    const draft = facts({ state: "draft" });
    const open = facts({ state: "open" });
    const closed = facts({ state: "closed" });
    expect([isEditable(draft), isEditable(open), isEditable(closed)]).toEqual([true, false, false]);
    expect([canOpen(draft), canOpen(open), canOpen(closed)]).toEqual([true, false, false]);
    expect([canClose(draft), canClose(open), canClose(closed)]).toEqual([false, true, false]);
    expect([canReopen(draft), canReopen(open), canReopen(closed)]).toEqual([false, false, true]);
    expect([canReveal(draft), canReveal(open), canReveal(closed)]).toEqual([false, true, true]);
    expect(canReveal(facts({ state: "closed", revealedAt: new Date() }))).toBe(false);
    expect([isAcceptingBallots(draft), isAcceptingBallots(open), isAcceptingBallots(closed)]).toEqual([
      false,
      true,
      false,
    ]);
  });
});

describe("results visibility", () => {
  const cases: [PromptFacts["resultsVisibility"], PromptFacts["state"], boolean, boolean][] = [
    // visibility, state, revealed, participants see the counts
    ["live", "draft", false, false],
    ["live", "open", false, true],
    ["live", "closed", false, true],
    ["after_close", "open", false, false],
    ["after_close", "closed", false, true],
    ["after_close", "open", true, true],
    ["moderators", "open", false, false],
    ["moderators", "closed", false, false],
    ["moderators", "closed", true, true],
    ["moderators", "open", true, true],
  ];
  it.each(cases)(
    "%s while %s (revealed %s): participants see counts = %s",
    (visibility, state, revealed, expected) => {
      const prompt = facts({
        resultsVisibility: visibility,
        state,
        revealedAt: revealed ? new Date() : null,
      });
      expect(isVisibleToParticipants(prompt)).toBe(expected);
      expect(canSeeTally(actor("participant"), prompt)).toBe(expected);
      expect(canSeeTally(actor("observer"), prompt)).toBe(expected);
      // Moderators see every opened prompt's counts.
      expect(canSeeTally(actor("host"), prompt)).toBe(state !== "draft");
    },
  );

  it("shows voters to moderators on named prompts only", () => {
    expect(canSeeVoters(actor("host"), facts({ anonymous: false }))).toBe(true);
    expect(canSeeVoters(actor("co_moderator"), facts({ anonymous: false }))).toBe(true);
    expect(canSeeVoters(actor("participant"), facts({ anonymous: false }))).toBe(false);
    expect(canSeeVoters(actor("observer"), facts({ anonymous: false }))).toBe(false);
    expect(canSeeVoters(actor("host"), facts({ anonymous: true }))).toBe(false);
  });
});

describe("ballotProblem", () => {
  const single = { kind: "single_choice" as const, maxChoices: 1, optionIds: ["a", "b"] };
  const multiple = { kind: "multiple_choice" as const, maxChoices: 2, optionIds: ["a", "b", "c"] };
  const scale = { kind: "scale" as const, maxChoices: 1, optionIds: ["p1", "p2", "p3", "p4", "p5"] };

  it("accepts what each kind allows", () => {
    expect(ballotProblem(single, ["b"])).toBeNull();
    expect(ballotProblem(multiple, ["a"])).toBeNull();
    expect(ballotProblem(multiple, ["c", "a"])).toBeNull();
    expect(ballotProblem(scale, ["p5"])).toBeNull();
  });

  it("refuses the wrong number of picks, repeats and foreign options", () => {
    expect(ballotProblem(single, [])).toMatch(/at least one/);
    expect(ballotProblem(single, ["a", "b"])).toMatch(/exactly one/);
    expect(ballotProblem(scale, ["p1", "p2"])).toMatch(/exactly one/);
    expect(ballotProblem(multiple, ["a", "b", "c"])).toMatch(/at most 2/);
    expect(ballotProblem(multiple, ["a", "a"])).toMatch(/once/);
    expect(ballotProblem(single, ["z"])).toMatch(/this prompt's options/);
    // A scale value out of range is an option id that is not one of the scale's points.
    expect(ballotProblem(scale, ["p6"])).toMatch(/this prompt's options/);
  });
});
