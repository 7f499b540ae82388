import type { Tx } from "../db/client.ts";
import { fail } from "../errors.ts";
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
  const [event] = await appendEvents(tx, seminarId, [{ type, actorId, data }]);
  return event!;
}

/**
 * Appends several events in order with one statement: k consecutive sequence numbers are taken
 * at once (the seminar row stays locked until the transaction ends, as for one event).
 */
export async function appendEvents(
  tx: Tx,
  seminarId: string,
  items: { type: RoomEventType; actorId: string | null; data: RoomEventDataMap[RoomEventType] }[],
): Promise<StoredEvent[]> {
  if (items.length === 0) return [];
  const rows = await tx.$queryRaw<{ seq: number; created_at: Date }[]>`
    WITH allocated AS (
      UPDATE seminars SET last_seq = last_seq + ${items.length}::int WHERE id = ${seminarId}::uuid RETURNING last_seq
    )
    INSERT INTO room_events (seminar_id, seq, type, actor_id, data)
    SELECT ${seminarId}::uuid, allocated.last_seq - ${items.length}::int + item.ord::int, item.type, item.actor, item.data
    FROM allocated,
      unnest(${items.map((item) => item.type)}::text[], ${items.map((item) => item.actorId)}::uuid[],
        ${items.map((item) => JSON.stringify(item.data))}::jsonb[]) WITH ORDINALITY AS item(type, actor, data, ord)
    RETURNING seq, created_at`;
  if (rows.length !== items.length) throw fail.notFound("Seminar");
  const sorted = [...rows].sort((a, b) => a.seq - b.seq);
  return sorted.map(
    (row, i) =>
      ({
        seq: row.seq,
        type: items[i]!.type,
        at: row.created_at.toISOString(),
        actor: items[i]!.actorId,
        data: items[i]!.data,
      }) as StoredEvent,
  );
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
