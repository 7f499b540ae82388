import type { PrismaClient, Tx } from "../db/client.ts";
import { fail } from "../errors.ts";
import {
  isRoomFactType,
  type NewFact,
  ROOM_FACTS,
  type RoomFactMap,
  type RoomFactType,
  type StoredEvent,
  type StoredEventOf,
} from "./room-facts.ts";

/**
 * Appends facts in order to a room's log inside the caller's transaction, with one statement: k
 * consecutive sequence numbers come from an atomic increment of seminars.last_seq, whose row stays
 * locked until the transaction ends, so two writers get consecutive numbers and a rolled-back
 * transaction gives its numbers back (no gaps).
 */
export async function appendEvents(tx: Tx, seminarId: string, items: NewFact[]): Promise<StoredEvent[]> {
  if (items.length === 0) return [];
  const rows = await tx.$queryRaw<{ seq: number; created_at: Date }[]>`
    WITH allocated AS (
      UPDATE seminars SET last_seq = last_seq + ${items.length}::int WHERE id = ${seminarId}::uuid RETURNING last_seq
    )
    INSERT INTO room_events (seminar_id, seq, type, actor_id, data)
    SELECT ${seminarId}::uuid, allocated.last_seq - ${items.length}::int + item.ord::int, item.type, item.actor, item.data
    FROM allocated,
      unnest(${items.map((item) => item.type)}::text[], ${items.map((item) => item.actorId)}::uuid[],
        ${items.map((item) => JSON.stringify(item.fact))}::jsonb[]) WITH ORDINALITY AS item(type, actor, data, ord)
    RETURNING seq, created_at`;
  if (rows.length !== items.length) throw fail.notFound("Seminar");
  const sorted = [...rows].sort((a, b) => a.seq - b.seq);
  return sorted.map((row, i) => ({ ...items[i]!, seq: row.seq, at: row.created_at }) as StoredEvent);
}

/** A stored row of the log as a typed event; its data is parsed by the schema of its type. */
export function readStoredEvent(row: {
  seq: number;
  type: string;
  actorId: string | null;
  data: unknown;
  createdAt: Date;
}): StoredEvent {
  if (!isRoomFactType(row.type)) throw new Error(`Unknown room event type ${row.type} at seq ${row.seq}`);
  return storedEventOf(row.type, row);
}

function storedEventOf<K extends RoomFactType>(
  type: K,
  row: { seq: number; actorId: string | null; data: unknown; createdAt: Date },
): StoredEvent {
  // The schema of type K parsed the data, so it is RoomFactMap[K] (zod's inferred type is not
  // correlated with K by the compiler).
  const fact = ROOM_FACTS[type].parse(row.data) as RoomFactMap[K];
  const event: StoredEventOf<K> = { seq: row.seq, type, at: row.createdAt, actorId: row.actorId, fact };
  return event as StoredEvent;
}

/**
 * The events of a room after `since`, in order (at most `limit`). One plain query: catch-ups and
 * transcripts read the log in long runs, where Prisma's per-row mapping cost more than the read.
 */
export async function readEventsSince(
  tx: PrismaClient | Tx,
  seminarId: string,
  since: number,
  limit: number,
): Promise<StoredEvent[]> {
  const rows = await tx.$queryRaw<
    { seq: number; type: string; actorId: string | null; data: unknown; createdAt: Date }[]
  >`
    SELECT seq, type, actor_id::text AS "actorId", data, created_at AS "createdAt"
    FROM room_events WHERE seminar_id = ${seminarId}::uuid AND seq > ${since}::int
    ORDER BY seq LIMIT ${limit}::int`;
  return rows.map(readStoredEvent);
}
