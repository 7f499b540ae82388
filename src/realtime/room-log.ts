import type { Prisma, Tx } from "../db/client.ts";
import type { RoomEventDataMap, RoomEventType, RoomEventView } from "../protocol/views.ts";

/** A stored room event, presented. */
export type StoredEvent = RoomEventView;

/**
 * Appends an event to a room's log inside the caller's transaction. The sequence number comes from
 * an atomic increment of seminars.last_seq: the row stays locked until the transaction ends, so two
 * writers get consecutive numbers, and a rolled-back transaction gives its number back (no gaps).
 */
export async function appendEvent<K extends RoomEventType>(
  tx: Tx,
  seminarId: string,
  type: K,
  actorId: string | null,
  data: RoomEventDataMap[K],
): Promise<StoredEvent> {
  const { lastSeq } = await tx.seminar.update({
    where: { id: seminarId },
    data: { lastSeq: { increment: 1 } },
    select: { lastSeq: true },
  });
  const row = await tx.roomEvent.create({
    data: { seminarId, seq: lastSeq, type, actorId, data: data as unknown as Prisma.InputJsonValue },
    select: { seq: true, createdAt: true },
  });
  return { seq: row.seq, type, at: row.createdAt.toISOString(), actor: actorId, data } as StoredEvent;
}

/** Presents stored rows of the event log. */
export function presentEvent(row: {
  seq: number;
  type: string;
  actorId: string | null;
  data: unknown;
  createdAt: Date;
}): StoredEvent {
  return {
    seq: row.seq,
    type: row.type as RoomEventType,
    at: row.createdAt.toISOString(),
    actor: row.actorId,
    data: row.data,
  } as StoredEvent;
}

/** The events of a room after `since`, in order (at most `limit`). */
export async function readEventsSince(
  tx: Tx,
  seminarId: string,
  since: number,
  limit: number,
): Promise<StoredEvent[]> {
  const rows = await tx.roomEvent.findMany({
    where: { seminarId, seq: { gt: since } },
    orderBy: { seq: "asc" },
    take: limit,
    select: { seq: true, type: true, actorId: true, data: true, createdAt: true },
  });
  return rows.map(presentEvent);
}
