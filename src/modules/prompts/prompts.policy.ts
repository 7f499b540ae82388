import type { PromptKind, PromptState, ResultsVisibility } from "../../protocol/views.ts";
import { type Actor, isModerator, type RoomState } from "../seminars/seminars.policy.ts";

/** What a prompt decision depends on. */
export interface PromptFacts {
  /** Where the prompt is in its life cycle. */
  state: PromptState;
  /** Who may see the counts, before any reveal. */
  resultsVisibility: ResultsVisibility;
  /** When a moderator revealed the results (null: not revealed). */
  revealedAt: Date | null;
  /** Named prompts show moderators who voted for what. */
  anonymous: boolean;
}

/** What a ballot is checked against. */
export interface BallotRules {
  /** The prompt's kind. */
  kind: PromptKind;
  /** Multiple choice: the most options one ballot may pick. */
  maxChoices: number;
  /** The ids of the prompt's options (scale prompts: one per scale point). */
  optionIds: readonly string[];
}

/** May create, edit, open, close, reopen and reveal prompts: moderators. */
export const canManagePrompts = (actor: Actor): boolean => isModerator(actor.role);

/** May create or edit a draft prompt: while the seminar has not ended. */
export const isPreparable = (room: RoomState): boolean => room.state !== "ended";

/** May change a prompt's life cycle (open, close, reopen, reveal): while the seminar is live. */
export const isRunnable = (room: RoomState): boolean => room.state === "live";

/** A prompt's definition may change only while it is a draft (no ballot can exist yet). */
export const isEditable = (prompt: Pick<PromptFacts, "state">): boolean => prompt.state === "draft";

/** Opening starts from a draft. */
export const canOpen = (prompt: Pick<PromptFacts, "state">): boolean => prompt.state === "draft";

/** Closing ends an open prompt. */
export const canClose = (prompt: Pick<PromptFacts, "state">): boolean => prompt.state === "open";

/** Reopening continues a closed prompt. */
export const canReopen = (prompt: Pick<PromptFacts, "state">): boolean => prompt.state === "closed";

/** Revealing applies once, to a prompt that has been opened. */
export const canReveal = (prompt: Pick<PromptFacts, "state" | "revealedAt">): boolean =>
  prompt.state !== "draft" && prompt.revealedAt === null;

/** Ballots are accepted while the prompt is open. */
export const isAcceptingBallots = (prompt: Pick<PromptFacts, "state">): boolean => prompt.state === "open";

/**
 * Participants (and observers) see the counts when a moderator revealed them, or when the
 * visibility allows it: `live` once opened, `after_close` while closed, `moderators` never.
 */
export function isVisibleToParticipants(
  prompt: Pick<PromptFacts, "state" | "resultsVisibility" | "revealedAt">,
): boolean {
  if (prompt.state === "draft") return false;
  if (prompt.revealedAt !== null) return true;
  if (prompt.resultsVisibility === "live") return true;
  if (prompt.resultsVisibility === "after_close") return prompt.state === "closed";
  return false;
}

/** May see a prompt's counts: moderators once it has been opened, others when visible to them. */
export const canSeeTally = (
  actor: Actor,
  prompt: Pick<PromptFacts, "state" | "resultsVisibility" | "revealedAt">,
): boolean => prompt.state !== "draft" && (isModerator(actor.role) || isVisibleToParticipants(prompt));

/** May see who voted for what: moderators, on named prompts only. Anonymous prompts: nobody. */
export const canSeeVoters = (actor: Actor, prompt: Pick<PromptFacts, "anonymous">): boolean =>
  !prompt.anonymous && isModerator(actor.role);

/**
 * Why a ballot's picks are not acceptable for the prompt, or null when they are: options must be
 * the prompt's own, each at most once; single choice and scale take exactly one, multiple choice
 * 1..maxChoices.
 */
export function ballotProblem(rules: BallotRules, optionIds: readonly string[]): string | null {
  if (new Set(optionIds).size !== optionIds.length) return "Pick each option at most once.";
  const own = new Set(rules.optionIds);
  if (optionIds.some((id) => !own.has(id))) return "Every option must be one of this prompt's options.";
  if (optionIds.length === 0) return "Pick at least one option.";
  if (rules.kind === "multiple_choice") {
    return optionIds.length <= rules.maxChoices ? null : `Pick at most ${rules.maxChoices} options.`;
  }
  return optionIds.length === 1 ? null : "Pick exactly one option.";
}
