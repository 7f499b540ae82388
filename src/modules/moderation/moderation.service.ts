import type { PrismaClient, Tx } from "../../db/client.ts";

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
  /** What changed, per action (mute: until; role: from, to; slow mode: seconds; …). */
  details: unknown;
  createdAt: Date;
}

/** The fields a moderation log row is read with. */
const moderationLogSelect = {
  id: true,
  actorId: true,
  action: true,
  targetMemberId: true,
  targetAnnotationId: true,
  reason: true,
  details: true,
  createdAt: true,
} as const;

/**
 * A seminar's whole moderation log, oldest first (createdAt, then id). For transcripts and other
 * readers that already decided the caller may read it (moderators only).
 */
export async function listModerationLog(
  db: PrismaClient | Tx,
  seminarId: string,
): Promise<ModerationLogRow[]> {
  return db.moderationAction.findMany({
    where: { seminarId },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: moderationLogSelect,
  });
}
