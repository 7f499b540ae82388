import type { PrismaClient, Tx } from "../db/client.ts";
import type { RoomEventDataMap, RoomEventType } from "../protocol/views.ts";
import { appendEvent, appendEvents, type StoredEvent } from "./room-log.ts";

/** Appends events to the room's log within the write's transaction. */
export interface EventAppender {
  append<K extends RoomEventType>(
    type: K,
    actorId: string | null,
    data: RoomEventDataMap[K],
  ): Promise<StoredEvent>;
  /** Appends several events, in order, in one statement. */
  appendMany<K extends RoomEventType>(
    items: { type: K; actorId: string | null; data: RoomEventDataMap[K] }[],
  ): Promise<StoredEvent[]>;
}

/** Receives a room's events after their transaction committed, in seq order. */
export type PublishEvents = (seminarId: string, events: StoredEvent[]) => void;

/**
 * Runs every write that produces room events: one transaction for the change and its events, then
 * publication after commit. Writes to the same room are serialised on this node, so events are
 * published in sequence order; the database row lock on the seminar does the same across nodes
 * (where clients fill any reordering gap with room:sync).
 */
export class RoomWriter {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly publish: PublishEvents,
  ) {}

  /** Runs `change` in a transaction for room `seminarId`; publishes its events once committed. */
  write<T>(seminarId: string, change: (tx: Tx, events: EventAppender) => Promise<T>): Promise<T> {
    return this.inOrder(seminarId, async () => {
      const events: StoredEvent[] = [];
      const result = await this.prisma.$transaction(
        (tx) =>
          change(tx, {
            append: async (type, actorId, data) => {
              const event = await appendEvent(tx, seminarId, type, actorId, data);
              events.push(event);
              return event;
            },
            appendMany: async (items) => {
              const stored = await appendEvents(tx, seminarId, items);
              events.push(...stored);
              return stored;
            },
          }),
        { maxWait: 10_000, timeout: 20_000 },
      );
      if (events.length > 0) this.publish(seminarId, events);
      return result;
    });
  }

  /**
   * Runs a change that is a single SQL statement, atomic on its own (no interactive transaction,
   * so no round trips while the seminar row is locked), with the same per-room order and
   * publish-after-commit as write(). `change` returns the events its statement stored.
   */
  writeStatement<T>(
    seminarId: string,
    change: (db: PrismaClient) => Promise<{ result: T; events: StoredEvent[] }>,
  ): Promise<T> {
    return this.inOrder(seminarId, async () => {
      const { result, events } = await change(this.prisma);
      if (events.length > 0) this.publish(seminarId, events);
      return result;
    });
  }

  /** Runs `run` after the room's earlier writes on this node have finished. */
  private async inOrder<T>(seminarId: string, run: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(seminarId) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.tails.set(seminarId, tail);
    await previous;
    try {
      return await run();
    } finally {
      release();
      if (this.tails.get(seminarId) === tail) this.tails.delete(seminarId);
    }
  }
}
