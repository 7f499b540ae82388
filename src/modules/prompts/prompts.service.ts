import type { Tx } from "../../db/client.ts";
import type { BallotView, PromptView, TallyView } from "../../protocol/views.ts";
import type { Actor } from "../seminars/seminars.policy.ts";

/** The prompts of a seminar, the tallies `viewer` may see and their own ballots. */
export async function loadPromptState(
  _tx: Tx,
  _seminarId: string,
  _viewer: Actor,
): Promise<{ prompts: PromptView[]; tallies: TallyView[]; myBallots: BallotView[] }> {
  return { prompts: [], tallies: [], myBallots: [] };
}
