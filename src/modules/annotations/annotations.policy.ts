/**
 * Who may do what with annotations: pure predicates of actor, annotation and room state, used by
 * the socket handlers, the REST routes, the snapshot and (later) transcripts alike.
 */
import { ANNOTATABLE_BLOCK_KINDS } from "../../protocol/annotations.ts";
import type { BlockKind, MemberRole } from "../../protocol/views.ts";
import {
  type Actor,
  canAnnotate,
  isModerator,
  isWriter,
  type RoomState,
} from "../seminars/seminars.policy.ts";

/** Who is looking at an annotation: a member, or the whole room (broadcast events). */
export interface AnnotationAudience {
  /** The viewing member; null for what the whole room is sent. */
  memberId: string | null;
  /** Moderators see hidden annotations in full. */
  moderator: boolean;
}

/** The audience of room events: anyone in the room, so no author or moderator privileges. */
export const ROOM_AUDIENCE: AnnotationAudience = { memberId: null, moderator: false };

/** The audience a member is. */
export function audienceOf(actor: { memberId: string; role: MemberRole }): AnnotationAudience {
  return { memberId: actor.memberId, moderator: isModerator(actor.role) };
}

/** The parts of an annotation a decision depends on. */
export interface AnnotationState {
  authorId: string;
  deletedAt: Date | null;
  hiddenAt: Date | null;
}

/** Whether a block of the essay can carry annotations (section markers cannot). */
export const isAnnotatableBlock = (kind: BlockKind): boolean =>
  (ANNOTATABLE_BLOCK_KINDS as readonly BlockKind[]).includes(kind);

/**
 * Why an actor may not write annotations now, or null when they may (canAnnotate): observers are
 * `forbidden`; anyone while the seminar is a draft or has ended gets `room_closed`.
 */
export function annotateRefusal(actor: Actor, room: RoomState): "forbidden" | "room_closed" | null {
  if (canAnnotate(actor, room)) return null;
  return isWriter(actor.role) ? "room_closed" : "forbidden";
}

/** Edit and delete: the author only (moderators hide, they do not rewrite). */
export const isAuthor = (actor: Actor, annotation: AnnotationState): boolean =>
  annotation.authorId === actor.memberId;

/** A tombstone: deleted by its author. */
export const isDeleted = (annotation: AnnotationState): boolean => annotation.deletedAt !== null;

/** Hidden by a moderator. */
export const isHidden = (annotation: AnnotationState): boolean => annotation.hiddenAt !== null;

/**
 * May see an annotation's body and tags: everyone unless a moderator hid it; then only moderators
 * and its author. The one visibility rule for live events, snapshots, REST and transcripts.
 */
export const canSeeContent = (audience: AnnotationAudience, annotation: AnnotationState): boolean =>
  !isHidden(annotation) || audience.moderator || audience.memberId === annotation.authorId;

/** May reply to or react to an annotation: not deleted, and not hidden unless a moderator. */
export const canRespondTo = (actor: Actor, annotation: AnnotationState): boolean =>
  !isDeleted(annotation) && (!isHidden(annotation) || isModerator(actor.role));
