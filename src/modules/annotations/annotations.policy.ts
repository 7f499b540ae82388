/**
 * Who may do what with annotations: pure predicates of actor, annotation and room state, used by
 * the socket handlers, the REST routes, the snapshot and (later) transcripts alike.
 */
import { ANNOTATABLE_BLOCK_KINDS } from "../../protocol/annotations.ts";
import type { BlockKind } from "../../protocol/views.ts";
import {
  asRole,
  holdsRight,
  type Refusal,
  type RightHolder,
  refusalOf,
} from "../moderation/moderation.policy.ts";
import { type Actor, isModerator, type RoomState, type Viewer } from "../seminars/seminars.policy.ts";

/** The parts of an annotation a decision depends on. */
export interface AnnotationState {
  authorId: string;
  deletedAt: Date | null;
  hiddenAt: Date | null;
}

/** Whether a block of the essay can carry annotations (section markers cannot). */
export const isAnnotatableBlock = (kind: BlockKind): boolean =>
  (ANNOTATABLE_BLOCK_KINDS as readonly BlockKind[]).includes(kind);

/** The rights (moderation.policy RIGHTS) that writing annotations takes. */
export type AnnotationRight = "post" | "edit_own" | "delete_own" | "react";

/**
 * Why a member may not write annotations now, or null when they may, from the rights table:
 * observers (and kicked or banned members) are `forbidden`; anyone while the seminar is a draft or
 * has ended gets `room_closed`; a muted member posting, editing or reacting is `forbidden` with
 * `details.reason: "muted"` (deleting one's own stays allowed). Slow mode is checked by the
 * service, which reads the member's last post.
 */
export function annotateRefusal(
  right: AnnotationRight,
  member: RightHolder,
  room: RoomState,
): Refusal | null {
  return refusalOf(right, member, room.state);
}

/** Edit and delete: the author only (moderators hide, they do not rewrite). */
export const isAuthor = (actor: Actor, annotation: AnnotationState): boolean =>
  annotation.authorId === actor.memberId;

/** A tombstone: deleted by its author. */
export const isDeleted = (annotation: AnnotationState): boolean => annotation.deletedAt !== null;

/** Hidden by a moderator. */
export const isHidden = (annotation: AnnotationState): boolean => annotation.hiddenAt !== null;

/**
 * May see an annotation at all. The one visibility rule for live events, catch-up, snapshots,
 * REST and transcripts: everyone, unless a moderator hid it; then only moderators and its author.
 * Hiding applies to one annotation: replies under a hidden one stay as they are (moderators hide
 * them one by one). Deleted ones stay visible as tombstones (their text is erased in storage).
 */
export const canSeeAnnotation = (viewer: Viewer, annotation: AnnotationState): boolean =>
  !isHidden(annotation) || viewer.moderator || viewer.memberId === annotation.authorId;

/** May reply to or react to an annotation: not deleted, and not hidden unless a moderator. */
export const canRespondTo = (actor: Actor, annotation: AnnotationState): boolean =>
  !isDeleted(annotation) && (!isHidden(annotation) || isModerator(actor.role));

/** May read an annotation's earlier versions: moderators and its author. */
export const canReadHistory = (viewer: Viewer, annotation: AnnotationState): boolean =>
  viewer.moderator || viewer.memberId === annotation.authorId;

/** May hide, restore, pin, unpin or remove annotations: moderators, once the session has started. */
export const canModerateAnnotations = (actor: Actor, room: RoomState): boolean =>
  holdsRight("moderate_annotations", asRole(actor.role), room.state);
