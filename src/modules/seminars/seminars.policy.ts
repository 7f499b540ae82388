import type { MemberRole, MemberStatus, PermissionsView, SeminarState } from "../../protocol/views.ts";
import { asRole, holdsRight, type RightHolder } from "../moderation/moderation.policy.ts";

/** Who is acting, in which seminar. */
export interface Actor {
  memberId: string;
  seminarId: string;
  role: MemberRole;
  /** The rights version a connection was admitted with; writes refuse a newer stored one. */
  rightsVersion?: number;
}

/**
 * Who looks at the room: the one input, beside the current state, of every presenter (live
 * delivery, catch-up, snapshots, REST and transcripts alike).
 */
export interface Viewer {
  /** The member looking; null for a reader outside the room (the whole room's generic view). */
  memberId: string | null;
  /** Hosts and co-moderators: see hidden content and moderator-only fields. */
  moderator: boolean;
  /** Names replaced by stable pseudonyms (anonymised transcripts). */
  anonymized: boolean;
}

/** The viewer a member is. */
export function viewerOf(actor: { memberId: string; role: MemberRole }, anonymized = false): Viewer {
  return { memberId: actor.memberId, moderator: isModerator(actor.role), anonymized };
}

/** The generic views of a room's two audiences (no author privileges). */
export const AUDIENCE_VIEWERS = {
  moderators: { memberId: null, moderator: true, anonymized: false },
  participants: { memberId: null, moderator: false, anonymized: false },
} as const satisfies Record<string, Viewer>;

/** The room state a decision depends on. */
export interface RoomState {
  state: SeminarState;
  locked: boolean;
}

/** Hosts and co-moderators run the room. */
export const isModerator = (role: MemberRole): boolean => role === "host" || role === "co_moderator";

/** Observers read along; everyone else may write. */
export const isWriter = (role: MemberRole): boolean => role !== "observer";

/** The session is running (writing allowed). */
export const isLive = (room: RoomState): boolean => room.state === "live";

/** May start the session: moderators, while the seminar is a draft (the rights table: start). */
export const canStart = (actor: Actor, room: RoomState): boolean =>
  holdsRight("start", asRole(actor.role), room.state);

/** May end the session: moderators, while it is live (the rights table: end). */
export const canEnd = (actor: Actor, room: RoomState): boolean =>
  holdsRight("end", asRole(actor.role), room.state);

/** May join by code: the seminar has not ended and is not locked. */
export const canJoin = (room: RoomState): boolean => room.state !== "ended" && !room.locked;

/** A member whose status is not active has no rights at all. */
export const isActive = (status: MemberStatus): boolean => status === "active";

/** May annotate: writers (not observers) while the session is live (the rights table: post). */
export const canAnnotate = (actor: Actor, room: RoomState): boolean =>
  holdsRight("post", asRole(actor.role), room.state);

/** May vote: participants (moderators run prompts; observers only read) while live (rights table: vote). */
export const canVote = (actor: Actor, room: RoomState): boolean =>
  holdsRight("vote", asRole(actor.role), room.state);

/**
 * What the viewer may do now, for snapshots (the UI hides what would be refused), read from the
 * rights table for the member as stored (a muted member may not annotate).
 */
export function permissionsFor(holder: RightHolder, room: RoomState): PermissionsView {
  return {
    moderate: holdsRight("moderate_members", holder, room.state),
    annotate: holdsRight("post", holder, room.state),
    vote: holdsRight("vote", holder, room.state),
    raiseHand: holdsRight("raise_hand", holder, room.state),
    changeRoles: holdsRight("change_roles", holder, room.state),
  };
}
