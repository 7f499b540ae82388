/**
 * Who may read which part of a transcript: pure predicates, beside the domain policies they build
 * on (a transcript shows each audience what it could see live, by the live room's own rules).
 */
import type { PromptFacts } from "../prompts/prompts.policy.ts";
import { isVisibleToParticipants } from "../prompts/prompts.policy.ts";
import { type Actor, isModerator, type RoomState, type Viewer } from "../seminars/seminars.policy.ts";

/** What the transcript decision depends on. */
export interface TranscriptRoom extends Pick<RoomState, "state"> {
  /** The host opened transcripts to participants and observers. */
  transcriptAccess: boolean;
}

/**
 * May download the transcript: moderators always; participants and observers once the session
 * has started (during and after it) and only when the host allows it.
 */
export const canReadTranscript = (actor: Actor, room: TranscriptRoom): boolean =>
  isModerator(actor.role) || (room.transcriptAccess && room.state !== "draft");

/** May read the moderation log: moderators. */
export const canReadModerationLog = (viewer: Viewer): boolean => viewer.moderator;

/** A prompt's facts as of now, and when it closed. */
export interface PromptTimes extends PromptFacts {
  closedAt: Date | null;
}

/**
 * May see one stored tally of a prompt's history, taken at `takenAt`: moderators always; others
 * only the tallies they could watch live, that is while the counts were visible to them
 * (resultsVisibility `live`, or after a reveal, or after closing for `after_close`), and only if
 * the counts are visible to them now.
 */
export function canSeeTallySnapshot(viewer: Viewer, prompt: PromptTimes, takenAt: Date): boolean {
  if (viewer.moderator) return true;
  if (!isVisibleToParticipants(prompt)) return false;
  if (prompt.resultsVisibility === "live") return true;
  if (prompt.revealedAt !== null && takenAt >= prompt.revealedAt) return true;
  return prompt.resultsVisibility === "after_close" && prompt.closedAt !== null && takenAt >= prompt.closedAt;
}
