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

/** Each fact type's stored data, parsed whenever the log is read back. */
export const ROOM_FACTS = {
  /** A member joined (guest by code, or a moderator's membership created). */
  "member:joined": MemberRef,
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
  /** A moderator hid, restored, pinned, unpinned or removed it. */
  "annotation:moderated": AnnotationRef.extend({
    action: z.enum(ANNOTATION_MODERATIONS),
    reason: z.string().nullable(),
  }),
  "prompt:created": PromptRef,
  "prompt:updated": PromptRef,
  "prompt:opened": PromptRef,
  "prompt:closed": PromptRef,
  "prompt:revealed": PromptRef,
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
