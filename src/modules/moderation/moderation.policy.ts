/**
 * Roles and rights as one table: for every right, which roles hold it, in which states of the
 * seminar, and whether a muted member keeps it. Every command of the protocol is mapped to one
 * right (COMMAND_RIGHTS: a command without a row does not compile), every service asks
 * `refusalOf` before it writes, the snapshot's permissions are read from it, and
 * docs/moderation.md prints it (rights-table.ts renders it; a test keeps the two equal).
 * Only active members hold rights: kicked and banned members hold none. Pure: no I/O.
 */
import type { CommandName } from "../../protocol/commands.ts";
import type { ErrorCode } from "../../protocol/result.ts";
import type { MemberRole, MemberStatus, SeminarState } from "../../protocol/views.ts";

/** Every role, in rank order (host first). */
export const ROLES = [
  "host",
  "co_moderator",
  "participant",
  "observer",
] as const satisfies readonly MemberRole[];

/** Every seminar state, in life-cycle order. */
export const STATES = ["draft", "live", "ended"] as const satisfies readonly SeminarState[];

const MODERATORS = ["host", "co_moderator"] as const;
const WRITERS = ["host", "co_moderator", "participant"] as const;

/** One right: who holds it, when, and what a refusal answers. */
export interface Right {
  /** The roles that hold it (active members only). */
  roles: readonly MemberRole[];
  /** The seminar states in which it can be used. */
  states: readonly SeminarState[];
  /** Whether a muted member keeps it. */
  whileMuted: boolean;
  /** The code a use outside `states` is refused with (room_closed unless said otherwise). */
  outsideStates: Extract<ErrorCode, "room_closed" | "conflict">;
  /** What it is, for docs/moderation.md. */
  summary: string;
}

const right = (
  roles: readonly MemberRole[],
  states: readonly SeminarState[],
  summary: string,
  options: { whileMuted?: boolean; outsideStates?: Right["outsideStates"] } = {},
): Right => ({
  roles,
  states,
  summary,
  whileMuted: options.whileMuted ?? true,
  outsideStates: options.outsideStates ?? "room_closed",
});

/** The rights table. */
export const RIGHTS = {
  read: right(ROLES, STATES, "Read the room: sync, report presence, refresh the token"),
  start: right(MODERATORS, ["draft"], "Start the session (freezes the essay)", { outsideStates: "conflict" }),
  end: right(MODERATORS, ["live"], "End the session (read-only afterwards)", { outsideStates: "conflict" }),
  post: right(WRITERS, ["live"], "Annotate and reply (slow mode applies to participants)", {
    whileMuted: false,
  }),
  edit_own: right(WRITERS, ["live"], "Edit one's own annotation", { whileMuted: false }),
  delete_own: right(WRITERS, ["live"], "Delete one's own annotation (leaves a tombstone)"),
  react: right(WRITERS, ["live"], "React to an annotation", { whileMuted: false }),
  vote: right(["participant"], ["live"], "Vote on open prompts"),
  prepare_prompts: right(MODERATORS, ["draft", "live"], "Create, edit and delete draft prompts"),
  run_prompts: right(MODERATORS, ["live"], "Open, close, reopen and reveal prompts"),
  moderate_annotations: right(
    MODERATORS,
    ["live", "ended"],
    "Hide, restore, pin, unpin and remove annotations",
  ),
  moderate_members: right(
    MODERATORS,
    STATES,
    "Mute, unmute, kick, ban and unban members ranked below oneself",
  ),
  change_roles: right(["host"], STATES, "Appoint and remove co-moderators; change a member's role"),
  lock_room: right(MODERATORS, ["draft", "live"], "Lock and unlock the room (a lock refuses new joins)"),
  slow_mode: right(MODERATORS, ["draft", "live"], "Set slow mode"),
  spotlight: right(MODERATORS, ["live"], "Spotlight a paragraph or a span of it"),
  phase: right(MODERATORS, ["live"], "Start a phase, with an optional deadline"),
  raise_hand: right(["participant"], ["live"], "Raise one's hand in the speaking queue", {
    whileMuted: false,
  }),
  lower_hand: right(WRITERS, ["live"], "Lower one's own hand (moderators: anyone's)"),
  run_queue: right(MODERATORS, ["live"], "Call the next hand (or a chosen one); clear the queue"),
} as const satisfies Record<string, Right>;

/** A right's name. */
export type RightName = keyof typeof RIGHTS;

/** The right each command needs. */
export const COMMAND_RIGHTS = {
  "room:sync": "read",
  "presence:focus": "read",
  "auth:refresh": "read",
  "seminar:start": "start",
  "seminar:end": "end",
  "annotation:create": "post",
  "annotation:reply": "post",
  "annotation:edit": "edit_own",
  "annotation:delete": "delete_own",
  "annotation:react": "react",
  "annotation:hide": "moderate_annotations",
  "annotation:restore": "moderate_annotations",
  "annotation:pin": "moderate_annotations",
  "annotation:unpin": "moderate_annotations",
  "annotation:remove": "moderate_annotations",
  "prompt:create": "prepare_prompts",
  "prompt:update": "prepare_prompts",
  "prompt:delete": "prepare_prompts",
  "prompt:open": "run_prompts",
  "prompt:close": "run_prompts",
  "prompt:reopen": "run_prompts",
  "prompt:reveal": "run_prompts",
  "prompt:vote": "vote",
  "member:mute": "moderate_members",
  "member:unmute": "moderate_members",
  "member:kick": "moderate_members",
  "member:ban": "moderate_members",
  "member:unban": "moderate_members",
  "member:role": "change_roles",
  "room:lock": "lock_room",
  "room:unlock": "lock_room",
  "room:slow_mode": "slow_mode",
  "room:spotlight": "spotlight",
  "room:phase": "phase",
  "queue:raise": "raise_hand",
  "queue:lower": "lower_hand",
  "queue:call": "run_queue",
  "queue:clear": "run_queue",
} as const satisfies { [C in CommandName]: RightName };

/** A member's mute as stored. */
export interface MuteState {
  mutedAt: Date | null;
  mutedUntil: Date | null;
}

/** Muted at `now`: a mute was set and has not run out (no end: until unmuted). */
export const isMuted = (member: MuteState, now: Date): boolean =>
  member.mutedAt !== null && (member.mutedUntil === null || member.mutedUntil > now);

/** Who wants to use a right: their role, whether they are active, and whether muted now. */
export interface RightHolder {
  role: MemberRole;
  status: MemberStatus;
  muted: boolean;
  /** When a timed mute ends (for the refusal's details). */
  mutedUntil?: Date | null;
}

/** A member as stored, as a holder of rights at `now`. */
export function holderOf(
  member: { role: MemberRole; status: MemberStatus } & MuteState,
  now: Date = new Date(),
): RightHolder {
  const muted = isMuted(member, now);
  return { role: member.role, status: member.status, muted, mutedUntil: muted ? member.mutedUntil : null };
}

/** Why a right is refused: an error code, a sentence, and details a client can act on. */
export interface Refusal {
  code: Extract<ErrorCode, "forbidden" | "room_closed" | "conflict">;
  message: string;
  details: {
    right: RightName;
    reason: "inactive" | "role" | "state" | "muted";
    /** reason "state": the seminar's state. */
    state?: SeminarState;
    /** reason "muted": when the mute ends (null: until a moderator unmutes). */
    until?: string | null;
  };
}

const ROLE_NAMES: Record<MemberRole, string> = {
  host: "the host",
  co_moderator: "a co-moderator",
  participant: "a participant",
  observer: "an observer",
};

/**
 * Why `holder` may not use `name` in a seminar in `state`, or null when they may. The checks run
 * in this order: an inactive member is `forbidden`; a role without the right is `forbidden`; a
 * state outside the right's is `room_closed` (`conflict` for starting and ending); a muted member
 * using a right muted members lose is `forbidden` with details.reason "muted".
 */
export function refusalOf(name: RightName, holder: RightHolder, state: SeminarState): Refusal | null {
  const rule: Right = RIGHTS[name];
  if (holder.status !== "active") {
    return {
      code: "forbidden",
      message: `You were ${holder.status} from this seminar.`,
      details: { right: name, reason: "inactive" },
    };
  }
  if (!rule.roles.includes(holder.role)) {
    return {
      code: "forbidden",
      message: `As ${ROLE_NAMES[holder.role]} you cannot do this (${rule.summary.toLowerCase()}).`,
      details: { right: name, reason: "role" },
    };
  }
  if (!rule.states.includes(state)) {
    const message =
      state === "ended"
        ? "This seminar has ended."
        : state === "draft"
          ? "The session has not started yet."
          : "The session is already live.";
    return { code: rule.outsideStates, message, details: { right: name, reason: "state", state } };
  }
  if (holder.muted && !rule.whileMuted) {
    return {
      code: "forbidden",
      message: "A moderator muted you: you can read and vote, not post.",
      details: { right: name, reason: "muted", until: holder.mutedUntil?.toISOString() ?? null },
    };
  }
  return null;
}

/**
 * The role part of refusalOf alone, for a check made before the room's state is read (a fast
 * refusal before a write; the write asks refusalOf again with everything as stored).
 */
export function roleRefusal(name: RightName, role: MemberRole): Refusal | null {
  const refusal = refusalOf(name, asRole(role), RIGHTS[name].states[0] ?? "live");
  return refusal?.details.reason === "role" ? refusal : null;
}

/** Whether `holder` may use `name` in a seminar in `state`. */
export const holdsRight = (name: RightName, holder: RightHolder, state: SeminarState): boolean =>
  refusalOf(name, holder, state) === null;

/** An active, unmuted holder of `role` (for questions about a role alone). */
export const asRole = (role: MemberRole): RightHolder => ({ role, status: "active", muted: false });

// ---------------------------------------------------------------------------------------------
// Who may act on whom

const RANK: Record<MemberRole, number> = { host: 3, co_moderator: 2, participant: 1, observer: 1 };

/**
 * May `actor` mute, kick or ban `target`: only members ranked below them (the host over
 * co-moderators and guests; co-moderators over participants and observers), never themselves.
 */
export const outranks = (actor: { id: string; role: MemberRole }, target: { id: string; role: MemberRole }) =>
  actor.id !== target.id && RANK[actor.role] > RANK[target.role];

/** May a member's role be changed: never the host's (the seminar's owner stays its host). */
export const isRoleChangeable = (target: { role: MemberRole }): boolean => target.role !== "host";

/** May `actor` lower `target`'s hand: their own, or anyone's for moderators. */
export const canLowerHandOf = (actor: { id: string; role: MemberRole }, targetId: string): boolean =>
  actor.id === targetId || RANK[actor.role] >= RANK.co_moderator;

/** Does slow mode apply to this role: participants yes, moderators no (observers do not post). */
export const isSlowed = (role: MemberRole): boolean => RANK[role] < RANK.co_moderator;
