/**
 * Every command a client may send, in one registry: its payload schema (what the server parses)
 * and its ack's data type (what the server answers). The Socket.IO event map in events.ts is
 * derived from this registry and the server's handler table must match it entry for entry, so
 * a name, payload or ack that disagrees between client, contract and server does not compile.
 * No Node, Express or Prisma imports here.
 */
import type { z } from "zod";
import {
  CreateAnnotationInput,
  DeleteAnnotationInput,
  EditAnnotationInput,
  ModerateAnnotationInput,
  ReactAnnotationInput,
  ReplyAnnotationInput,
} from "./annotations.ts";
import {
  MemberActionInput,
  MemberRoleInput,
  MuteMemberInput,
  PhaseInput,
  QueueCallInput,
  QueueLowerInput,
  QueueRaiseInput,
  ReasonInput,
  SlowModeInput,
  SpotlightInput,
} from "./moderation.ts";
import { PromptCreateInput, PromptRefInput, PromptUpdateInput, PromptVoteInput } from "./prompts.ts";
import { EmptyInput, PresenceFocusInput, RoomSyncInput } from "./schemas.ts";
import type {
  AnnotationView,
  BallotView,
  MemberView,
  PhaseView,
  PromptView,
  QueueEntryView,
  SpotlightView,
  SyncView,
} from "./views.ts";

/**
 * What each command's ack carries on success. Errors come in the envelope with the codes listed
 * per command; a refused command changes nothing and broadcasts nothing.
 */
export interface CommandResults {
  /**
   * Catch up after `since` (the last seq the client applied) or, without it, get a snapshot. Any
   * member. A snapshot instead of events when too much was missed or `since` is ahead of the log.
   * Errors: rate_limited (snapshots per member per minute), forbidden (no longer a member).
   */
  "room:sync": SyncView;
  /** Report the paragraph being read (null: none). Any member; coalesced. Errors: not_found (paragraph). */
  "presence:focus": { paragraphId: string | null };
  /** Exchange the connection's token for a fresh one before it expires. Any member still active. */
  "auth:refresh": { token: string; expiresAt: string };
  /** Start the session: freezes the essay, opens the room. Moderators. Errors: forbidden, conflict. */
  "seminar:start": { seq: number };
  /** End the session (closes open prompts first): the room becomes read-only. Moderators. Errors: forbidden, conflict. */
  "seminar:end": { seq: number };
  /**
   * Highlight a span of a paragraph (or the whole paragraph) and comment; broadcasts
   * annotation:created (not again for a retried clientId). Errors: validation_failed (payload,
   * offsets, quote mismatch, block kind), not_found (paragraph), forbidden (observer, muted),
   * room_closed (not live, locked), rate_limited (slow mode), conflict (clientId reused).
   */
  "annotation:create": AnnotationView;
  /**
   * Reply in a thread (a reply to a reply joins the root's thread); broadcasts annotation:created.
   * Errors: as annotation:create, and conflict (parent deleted or hidden).
   */
  "annotation:reply": AnnotationView;
  /**
   * Edit one's own annotation (the earlier version is kept); broadcasts annotation:updated. Errors:
   * validation_failed, not_found, forbidden (someone else's), conflict (deleted, hidden, stale version), room_closed.
   */
  "annotation:edit": AnnotationView;
  /**
   * Delete one's own annotation, leaving a tombstone (text and earlier versions erased);
   * broadcasts annotation:deleted. Errors: not_found, forbidden, room_closed.
   */
  "annotation:delete": AnnotationView;
  /**
   * Toggle one's reaction of a kind; broadcasts annotation:reacted. Errors: validation_failed,
   * not_found, conflict (deleted or hidden), forbidden, room_closed.
   */
  "annotation:react": { active: boolean };
  /**
   * Hide an annotation (or reply; hiding a root hides its thread) from participants and observers;
   * moderators and its author still see it, marked. annotation:moderated (withdrawn for others).
   * Moderators, live or ended. Errors: forbidden, not_found, room_closed (draft), conflict (deleted).
   * Hiding a hidden one acks it unchanged without an event; the same for restore, pin and unpin.
   */
  "annotation:hide": AnnotationView;
  /** Show a hidden annotation again (annotation:moderated). Moderators. Errors as annotation:hide. */
  "annotation:restore": AnnotationView;
  /** Pin an annotation (shown first in its paragraph). Moderators. Errors as annotation:hide. */
  "annotation:pin": AnnotationView;
  /** Unpin an annotation. Moderators. Errors as annotation:hide. */
  "annotation:unpin": AnnotationView;
  /**
   * Remove any annotation, leaving a tombstone (text and earlier versions erased, as a deletion);
   * the reason stays in the moderation log. Moderators. Errors as annotation:hide.
   */
  "annotation:remove": AnnotationView;
  /** Create a draft prompt (prompt:created). Moderators. Errors: forbidden, room_closed, validation_failed. */
  "prompt:create": PromptView;
  /** Replace a draft prompt's definition (prompt:updated). Moderators. Errors: not_found, conflict (not draft). */
  "prompt:update": PromptView;
  /**
   * Delete a draft prompt (prompt:deleted); one that was ever opened stays. Moderators; draft or
   * live. Errors: forbidden, not_found, conflict (not a draft), room_closed.
   */
  "prompt:delete": { promptId: string };
  /** Open a draft prompt (prompt:opened). Moderators; live. Errors: conflict unless draft, room_closed. */
  "prompt:open": PromptView;
  /** Close an open prompt (prompt:closed); its final tally follows at once. Moderators; live. */
  "prompt:close": PromptView;
  /** Open a closed prompt again (prompt:opened); ballots are kept. Moderators; live. */
  "prompt:reopen": PromptView;
  /** Show the counts to participants (prompt:revealed). Moderators; live. Errors: conflict (draft, already revealed). */
  "prompt:reveal": PromptView;
  /**
   * Store the caller's ballot (replacing an earlier one); a retried clientBallotId is counted once.
   * Participants. Errors: forbidden, not_found, room_closed, conflict (not open), validation_failed.
   */
  "prompt:vote": BallotView;
  /**
   * Mute a member (for `durationSeconds`, or until unmuted): they read and vote but cannot post.
   * member:moderated. Moderators, on members below them (docs/moderation.md). Errors: forbidden,
   * not_found. Muting again changes the end; the ack is the member as now.
   */
  "member:mute": MemberView;
  /** Unmute a member (member:moderated). Moderators. Errors as member:mute. Unmuting the unmuted acks it unchanged. */
  "member:unmute": MemberView;
  /**
   * Remove a member from the room: their connections close (`kicked`), their tokens and hand are
   * gone; they may join again by code. Moderators. Errors as member:mute, conflict (banned).
   */
  "member:kick": MemberView;
  /**
   * Ban a member: as a kick, and joining again (by code with their resume secret, by resume secret or
   * by an old token) is refused. Moderators. Errors as member:mute.
   */
  "member:ban": MemberView;
  /** Lift a ban: the member counts as kicked (they may join again by code). Moderators. Errors as member:mute. */
  "member:unban": MemberView;
  /**
   * Give a member (by id) or a moderator account (by e-mail) the role co_moderator, participant or
   * observer; their connections close (`rights_changed`) and reconnect with the new role. The
   * host only; the host's own role cannot change. Errors: forbidden, not_found, conflict (not active).
   */
  "member:role": MemberView;
  /** Lock the room: new joins are refused with room_closed; members inside stay. Moderators; draft or live. */
  "room:lock": { locked: boolean };
  /** Unlock the room. Moderators; draft or live. Errors: forbidden, room_closed (ended). */
  "room:unlock": { locked: boolean };
  /**
   * Set slow mode: the least seconds between two posts (annotations and replies) of one
   * participant, 0 to 600 (0: off); posting sooner is rate_limited with retryAfterMs. Moderators.
   */
  "room:slow_mode": { seconds: number };
  /**
   * Spotlight a paragraph of the essay (optionally a span of it), or clear it. Moderators; live.
   * Errors: forbidden, room_closed, not_found (paragraph), validation_failed (span outside it).
   */
  "room:spotlight": { spotlight: SpotlightView | null };
  /**
   * Start a phase (the current one ends), with an optional deadline the server announces with
   * room:phase_ended; or leave phases (`phase: null`). Moderators; live. Errors: forbidden, room_closed.
   */
  "room:phase": { phase: PhaseView | null };
  /**
   * Raise one's hand; the queue keeps the order in which the room accepted the raises. Participants;
   * live; not while muted. Raising a raised hand acks the queue unchanged. Errors: forbidden, room_closed.
   */
  "queue:raise": { queue: QueueEntryView[] };
  /**
   * Lower one's own hand, or (moderators) anyone's. Lowering a hand that is not raised acks the
   * queue unchanged. Errors: forbidden (someone else's), not_found, room_closed.
   */
  "queue:lower": { queue: QueueEntryView[] };
  /**
   * Give the floor to the first raised hand, or to a chosen member whose hand is raised; it leaves
   * the queue. Moderators; live. Errors: forbidden, conflict (queue empty, member not in it), room_closed.
   */
  "queue:call": { queue: QueueEntryView[] };
  /** Lower every hand. Moderators; live. Clearing an empty queue acks it without an event. */
  "queue:clear": { queue: QueueEntryView[] };
}

/** The name of a command. */
export type CommandName = keyof CommandResults;

/** Each command's payload schema; the server parses every payload with it before anything else. */
export const COMMAND_INPUTS = {
  "room:sync": RoomSyncInput,
  "presence:focus": PresenceFocusInput,
  "auth:refresh": EmptyInput,
  "seminar:start": EmptyInput,
  "seminar:end": EmptyInput,
  "annotation:create": CreateAnnotationInput,
  "annotation:reply": ReplyAnnotationInput,
  "annotation:edit": EditAnnotationInput,
  "annotation:delete": DeleteAnnotationInput,
  "annotation:react": ReactAnnotationInput,
  "annotation:hide": ModerateAnnotationInput,
  "annotation:restore": ModerateAnnotationInput,
  "annotation:pin": ModerateAnnotationInput,
  "annotation:unpin": ModerateAnnotationInput,
  "annotation:remove": ModerateAnnotationInput,
  "prompt:create": PromptCreateInput,
  "prompt:update": PromptUpdateInput,
  "prompt:delete": PromptRefInput,
  "prompt:open": PromptRefInput,
  "prompt:close": PromptRefInput,
  "prompt:reopen": PromptRefInput,
  "prompt:reveal": PromptRefInput,
  "prompt:vote": PromptVoteInput,
  "member:mute": MuteMemberInput,
  "member:unmute": MemberActionInput,
  "member:kick": MemberActionInput,
  "member:ban": MemberActionInput,
  "member:unban": MemberActionInput,
  "member:role": MemberRoleInput,
  "room:lock": ReasonInput,
  "room:unlock": ReasonInput,
  "room:slow_mode": SlowModeInput,
  "room:spotlight": SpotlightInput,
  "room:phase": PhaseInput,
  "queue:raise": QueueRaiseInput,
  "queue:lower": QueueLowerInput,
  "queue:call": QueueCallInput,
  "queue:clear": ReasonInput,
} as const satisfies { [E in CommandName]: z.ZodType };

/** What a client sends as the payload of command `E`. */
export type CommandPayload<E extends CommandName> = z.input<(typeof COMMAND_INPUTS)[E]>;

/** What the server's handler of command `E` receives after parsing. */
export type CommandInput<E extends CommandName> = z.output<(typeof COMMAND_INPUTS)[E]>;

/** What the ack of command `E` carries on success. */
export type CommandResult<E extends CommandName> = CommandResults[E];

/** Whether `name` is a command of the contract (for untrusted event names). */
export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_INPUTS, name);
}
