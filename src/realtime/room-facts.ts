/**
 * What the room log stores: facts (what happened, to which ids, by whom), never a view of them.
 * Text lives in the domain rows; presenters (presenters.ts) turn a fact plus the current state
 * into what one viewer receives. The log is append-only: nothing rewrites an earlier fact.
 */
import { z } from "zod";

const MemberRef = z.object({ memberId: z.uuid() });
const AnnotationRef = z.object({ annotationId: z.uuid() });
const PromptRef = z.object({ promptId: z.uuid() });
const Nothing = z.object({});

/** The moderation actions on an annotation. */
export const ANNOTATION_MODERATIONS = ["hide", "restore", "pin", "unpin", "remove"] as const;

/** The moderation actions on a member. */
export const MEMBER_MODERATIONS = ["mute", "unmute", "kick", "ban", "unban", "role"] as const;

/** What can happen in the speaking queue. */
export const QUEUE_ACTIONS = ["raise", "lower", "call", "clear"] as const;

/** The moderation log row (moderation_actions.id) an action wrote. */
const ActionRef = z.object({ actionId: z.uuid() });

/** Each fact type's stored data, parsed whenever the log is read back. */
export const ROOM_FACTS = {
  /**
   * A member joined (guest by code, or a moderator's membership created); `rejoined`: a kicked
   * member came back with their resume secret (facts before it lack the flag).
   */
  "member:joined": MemberRef.extend({ rejoined: z.literal(true).optional() }),
  /** A member's role, status or mute changed. */
  "member:updated": MemberRef.extend({ changed: z.array(z.string()) }),
  "seminar:started": Nothing,
  "seminar:ended": Nothing,
  /** Room settings changed (lock, slow mode, spotlight, phase). */
  "seminar:updated": z.object({ changed: z.array(z.string()) }),
  /** A draft's essay was replaced. */
  "essay:replaced": Nothing,
  "annotation:created": AnnotationRef,
  /** The author edited it to `version`. */
  "annotation:updated": AnnotationRef.extend({ version: z.number().int() }),
  /** The author deleted it (tombstone). */
  "annotation:deleted": AnnotationRef,
  "annotation:reacted": AnnotationRef.extend({
    kind: z.string(),
    memberId: z.uuid(),
    active: z.boolean(),
  }),
  /** A moderator hid, restored, pinned, unpinned or removed it (facts before the log id lack it). */
  "annotation:moderated": AnnotationRef.extend({
    action: z.enum(ANNOTATION_MODERATIONS),
    reason: z.string().nullable(),
    actionId: z.uuid().optional(),
  }),
  /** A moderator muted, unmuted, kicked, banned, unbanned the member or changed their role. */
  "member:moderated": MemberRef.extend({ action: z.enum(MEMBER_MODERATIONS) }).extend(ActionRef.shape),
  /** The room was locked or unlocked. */
  "room:locked": ActionRef.extend({ locked: z.boolean() }),
  /** Slow mode was set (seconds; 0: off). */
  "room:slow_mode": ActionRef.extend({ seconds: z.number().int().min(0) }),
  /** The spotlight moved (paragraph, optional span in code points) or was cleared. */
  "room:spotlight": ActionRef.extend({
    spotlight: z
      .object({
        paragraphId: z.uuid(),
        start: z.number().int().nullable(),
        end: z.number().int().nullable(),
      })
      .nullable(),
  }),
  /** A phase started (phases row), or phases were left (null). */
  "room:phase": ActionRef.extend({ phaseId: z.uuid().nullable() }),
  /** A phase's deadline passed (the server's announcement). */
  "room:phase_ended": z.object({ phaseId: z.uuid() }),
  /**
   * A hand was raised (memberId, raisedAt), lowered or called (memberId), or every hand lowered
   * (clear). actionId: the log row when a moderator did it (null for a member's own hand).
   */
  "queue:updated": z.object({
    action: z.enum(QUEUE_ACTIONS),
    memberId: z.uuid().nullable(),
    raisedAt: z.iso.datetime().nullable(),
    actionId: z.uuid().nullable(),
  }),
  "prompt:created": PromptRef,
  "prompt:updated": PromptRef,
  "prompt:opened": PromptRef,
  "prompt:closed": PromptRef,
  "prompt:revealed": PromptRef,
  /** A draft prompt was deleted (its row is gone). */
  "prompt:deleted": PromptRef,
} as const satisfies Record<string, z.ZodType>;

/** The facts a room's log holds, by type. */
export type RoomFactMap = { [K in keyof typeof ROOM_FACTS]: z.infer<(typeof ROOM_FACTS)[K]> };

/** A fact type. */
export type RoomFactType = keyof RoomFactMap;

/** One stored event of type K. */
export interface StoredEventOf<K extends RoomFactType> {
  seq: number;
  type: K;
  at: Date;
  /** The member who caused it; null for the system. */
  actorId: string | null;
  fact: RoomFactMap[K];
}

/** One stored event of the room log. */
export type StoredEvent = { [K in RoomFactType]: StoredEventOf<K> }[RoomFactType];

/** A fact about to be appended. */
export type NewFact = {
  [K in RoomFactType]: { type: K; actorId: string | null; fact: RoomFactMap[K] };
}[RoomFactType];

/** Whether `type` is a fact type this server knows. */
export function isRoomFactType(type: string): type is RoomFactType {
  return Object.hasOwn(ROOM_FACTS, type);
}
