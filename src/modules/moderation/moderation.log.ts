/**
 * The moderation log (moderation_actions): one row per moderator action, written in the same
 * transaction as the action's change and its room fact. Read by moderation.service (REST, the
 * snapshot, transcripts) and the event presenters.
 */
import type { Prisma } from "../../db/client.ts";
import type { ModerationDetails } from "../../protocol/views.ts";
import type { ActedRoom, RoomTx } from "../../realtime/room-writer.ts";

/** One row of a seminar's moderation log, as stored. */
export interface ModerationLogRow {
  id: string;
  /** The moderator (member id) who acted. */
  actorId: string;
  /** The command, for example annotation:hide, member:mute, room:lock. */
  action: string;
  targetMemberId: string | null;
  targetAnnotationId: string | null;
  reason: string | null;
  /** What changed, per action (ModerationDetails: mute until; role from, to; slow mode seconds; …). */
  details: unknown;
  createdAt: Date;
}

/** The fields a moderation log row is read with. */
export const moderationLogSelect = {
  id: true,
  actorId: true,
  action: true,
  targetMemberId: true,
  targetAnnotationId: true,
  reason: true,
  details: true,
  createdAt: true,
} as const satisfies Prisma.ModerationActionSelect;

/** Oldest first; the id breaks ties between actions of the same millisecond. */
export const logOrder = [
  { createdAt: "asc" },
  { id: "asc" },
] as const satisfies Prisma.ModerationActionOrderByWithRelationInput[];

/**
 * Writes a moderation log row for the acting member in the write's transaction, and records it
 * for live delivery (moderators' events carry it).
 */
export async function logAction(
  write: Pick<RoomTx<ActedRoom>, "tx" | "room" | "known">,
  entry: {
    action: string;
    targetMemberId?: string;
    targetAnnotationId?: string;
    reason: string | undefined;
    details?: ModerationDetails;
  },
): Promise<ModerationLogRow> {
  const row = await write.tx.moderationAction.create({
    data: {
      seminarId: write.room.seminarId,
      actorId: write.room.member.id,
      action: entry.action,
      targetMemberId: entry.targetMemberId ?? null,
      targetAnnotationId: entry.targetAnnotationId ?? null,
      reason: entry.reason ?? null,
      details: entry.details ?? undefined,
    },
    select: moderationLogSelect,
  });
  write.known.moderation(row);
  return row;
}
