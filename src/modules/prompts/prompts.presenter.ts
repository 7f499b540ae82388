import type { TallySnapshotView } from "../../protocol/prompts.ts";
import type { BallotView, PromptOptionView, PromptView, TallyView } from "../../protocol/views.ts";

/** A prompt row with its options, as the service reads it. */
export interface PromptRecord {
  id: string;
  position: number;
  kind: PromptView["kind"];
  question: string;
  paragraphId: string | null;
  maxChoices: number;
  anonymous: boolean;
  resultsVisibility: PromptView["resultsVisibility"];
  state: PromptView["state"];
  revealedAt: Date | null;
  openedAt: Date | null;
  closedAt: Date | null;
  options: { id: string; position: number; label: string; value: number | null }[];
}

/** A prompt's counts at one version, read from the database (voters: named prompts only). */
export interface TallyRecord {
  promptId: string;
  version: number;
  /** optionId -> count, every option of the prompt in position order (0 when none picked it). */
  counts: Record<string, number>;
  ballots: number;
  /** optionId -> member ids, sorted; null for anonymous prompts (never read for them). */
  voters: Record<string, string[]> | null;
}

/** One option (a scale point carries its value). */
export function presentOption(option: PromptRecord["options"][number]): PromptOptionView {
  return { id: option.id, position: option.position, label: option.label, value: option.value };
}

/** A prompt with its options by position; the same for every viewer (it carries no counts). */
export function presentPrompt(prompt: PromptRecord): PromptView {
  return {
    id: prompt.id,
    position: prompt.position,
    kind: prompt.kind,
    question: prompt.question,
    paragraphId: prompt.paragraphId,
    maxChoices: prompt.maxChoices,
    anonymous: prompt.anonymous,
    resultsVisibility: prompt.resultsVisibility,
    state: prompt.state,
    revealed: prompt.revealedAt !== null,
    options: [...prompt.options].sort((a, b) => a.position - b.position).map(presentOption),
    openedAt: prompt.openedAt?.toISOString() ?? null,
    closedAt: prompt.closedAt?.toISOString() ?? null,
  };
}

/**
 * A tally; `voters` only when `withVoters` (the policy's canSeeVoters) and the prompt is named.
 * Counts are copied, so one record can be presented to several audiences.
 */
export function presentTally(tally: TallyRecord, options: { withVoters: boolean }): TallyView {
  const view: TallyView = {
    promptId: tally.promptId,
    version: tally.version,
    counts: { ...tally.counts },
    ballots: tally.ballots,
  };
  if (options.withVoters && tally.voters !== null) {
    view.voters = Object.fromEntries(
      Object.entries(tally.voters).map(([optionId, ids]) => [optionId, [...ids]]),
    );
  }
  return view;
}

/** The viewer's own ballot, options in a stable order. */
export function presentBallot(ballot: {
  promptId: string;
  clientBallotId: string;
  revision: number;
  choices: { optionId: string }[];
}): BallotView {
  return {
    promptId: ballot.promptId,
    optionIds: ballot.choices.map((choice) => choice.optionId).sort(),
    clientBallotId: ballot.clientBallotId,
    revision: ballot.revision,
  };
}

/** One stored tally of a prompt's history. */
export function presentTallySnapshot(snapshot: {
  version: number;
  counts: unknown;
  ballots: number;
  takenAt: Date;
}): TallySnapshotView {
  const counts: Record<string, number> = {};
  if (snapshot.counts !== null && typeof snapshot.counts === "object" && !Array.isArray(snapshot.counts)) {
    for (const [optionId, count] of Object.entries(snapshot.counts)) {
      if (typeof count === "number") counts[optionId] = count;
    }
  }
  return {
    version: snapshot.version,
    counts,
    ballots: snapshot.ballots,
    takenAt: snapshot.takenAt.toISOString(),
  };
}
