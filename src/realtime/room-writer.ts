import type { PrismaClient, Tx } from "../db/client.ts";
import { fail } from "../errors.ts";
import type { Actor } from "../modules/seminars/seminars.policy.ts";
import type { MemberRole, MemberStatus, SeminarState } from "../protocol/views.ts";
import type { NewFact, RoomFactMap, RoomFactType, StoredEvent, StoredEventOf } from "./room-facts.ts";
import { appendEvents } from "./room-log.ts";
import { type KnownSubjects, SubjectCache } from "./subjects.ts";

/** The room as a write sees it, read under the seminar's row lock. */
export interface LockedRoom {
  seminarId: string;
  state: SeminarState;
  locked: boolean;
  slowModeSeconds: number;
  /** The acting member as stored now (null for writes without one, such as a guest joining). */
  member: LockedMember | null;
}

/** A locked room with the acting member, whose role is the one stored now (use it for policies). */
export interface ActedRoom extends LockedRoom {
  member: LockedMember;
  actor: Actor;
}

/** The acting member's current rights, read in the write's transaction. */
export interface LockedMember {
  id: string;
  role: MemberRole;
  status: MemberStatus;
  /** Muted since (null: not muted); see moderation.policy isMuted. */
  mutedAt: Date | null;
  mutedUntil: Date | null;
  rightsVersion: number;
}

/** Who a write acts for: decided again from the database at the moment it runs. */
export interface WriteScope {
  seminarId: string;
  /** The acting member; their membership is read under the lock and must be active. */
  memberId?: string;
  /** The rights version the caller's connection was admitted with; a newer one refuses the write. */
  rightsVersion?: number;
}

/** What a change gets: its transaction, the room as locked, and the log to append facts to. */
export interface RoomTx<R extends LockedRoom = LockedRoom> {
  tx: Tx;
  room: R;
  /** Appends a fact now, in this transaction (its seq is known when this resolves). */
  append<K extends RoomFactType>(
    type: K,
    actorId: string | null,
    fact: RoomFactMap[K],
  ): Promise<StoredEventOf<K>>;
  /** Appends several facts in order, with one statement. */
  appendMany(items: NewFact[]): Promise<StoredEvent[]>;
  /** Rows the facts refer to, as this write left them: live delivery presents them without a read. */
  known: KnownSubjects;
}

/**
 * Receives a room's events after their transaction committed, in seq order, with the rows they
 * refer to. Awaited before the room's next write publishes (so events leave in order); it must not
 * reject (the write is committed: a failed delivery is filled by the clients' room:sync).
 */
export type PublishEvents = (seminarId: string, events: StoredEvent[], known: KnownSubjects) => Promise<void>;

interface LockRow {
  state: SeminarState;
  locked: boolean;
  slow_mode_seconds: number;
  member_id: string | null;
  role: MemberRole | null;
  status: MemberStatus | null;
  muted_at: Date | null;
  muted_until: Date | null;
  rights_version: number | null;
  display_name: string | null;
  created_at: Date | null;
}

/**
 * Locks a seminar's row for the rest of the transaction (FOR NO KEY UPDATE, the lock the event
 * append takes anyway) and reads the room's state and the acting member's current rights in the
 * same statement. Every room write takes it first: a concurrent end, lock or kick on any node
 * either commits before the write decides or waits until it is done.
 * Errors: not_found (no such seminar, or the member is not in it), forbidden (member kicked or
 * banned), unauthenticated (the member's rights changed since the connection was admitted).
 */
export async function lockRoom(tx: Tx, scope: WriteScope, known?: KnownSubjects): Promise<LockedRoom> {
  const rows = await tx.$queryRaw<LockRow[]>`
    SELECT s.state::text AS state, s.locked, s.slow_mode_seconds, m.id::text AS member_id,
      m.role::text AS role, m.status::text AS status, m.muted_at, m.muted_until, m.rights_version,
      m.display_name, m.created_at
    FROM seminars s
    LEFT JOIN memberships m ON m.id = ${scope.memberId ?? null}::uuid AND m.seminar_id = s.id
    WHERE s.id = ${scope.seminarId}::uuid
    FOR NO KEY UPDATE OF s`;
  const row = rows[0];
  if (!row) throw fail.notFound("Seminar");
  let member: LockedMember | null = null;
  if (scope.memberId !== undefined) {
    if (row.member_id === null || row.role === null || row.status === null || row.rights_version === null)
      throw fail.notFound("Seminar");
    if (row.status !== "active") throw fail.forbidden(`You were ${row.status} from this seminar.`);
    if (scope.rightsVersion !== undefined && scope.rightsVersion !== row.rights_version)
      throw fail.unauthenticated("Your role in this seminar changed; reconnect to continue.");
    member = {
      id: row.member_id,
      role: row.role,
      status: row.status,
      mutedAt: row.muted_at,
      mutedUntil: row.muted_until,
      rightsVersion: row.rights_version,
    };
    // The acting member as stored now: participants' views of its events refer to them (their
    // annotations, reactions, raised hands), so live delivery needs no read for them.
    if (known && row.display_name !== null && row.created_at !== null) {
      known.member({ ...member, displayName: row.display_name, createdAt: row.created_at });
    }
  }
  return {
    seminarId: scope.seminarId,
    state: row.state,
    locked: row.locked,
    slowModeSeconds: row.slow_mode_seconds,
    member,
  };
}

/**
 * The one write path for every room change: one transaction that locks the room (lockRoom),
 * runs the change and appends its facts, then publication after commit. Writes to the same room
 * are serialised on this node, so events are published in sequence order; the row lock does the
 * same across nodes (where clients fill any reordering gap with room:sync).
 */
export class RoomWriter {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly publish: PublishEvents,
  ) {}

  /**
   * Runs `change` for `actor` (their membership read under the lock must be active and, for a
   * connection, of the same rights version); publishes its events once committed.
   */
  write<T>(actor: Actor, change: (write: RoomTx<ActedRoom>) => Promise<T>): Promise<T> {
    const scope = {
      seminarId: actor.seminarId,
      memberId: actor.memberId,
      rightsVersion: actor.rightsVersion,
    };
    return this.run(scope, (write) => {
      const member = write.room.member;
      if (!member) throw fail.notFound("Seminar");
      const actor = { seminarId: scope.seminarId, memberId: member.id, role: member.role };
      return change({ ...write, room: { ...write.room, member, actor } });
    });
  }

  /** Rooms with writes queued or running on this node. */
  queuedRooms(): number {
    return this.tails.size;
  }

  /** Runs a change made for the room itself, without an acting member (a guest being admitted). */
  writeForRoom<T>(seminarId: string, change: (write: RoomTx) => Promise<T>): Promise<T> {
    return this.run({ seminarId }, change);
  }

  private run<T>(scope: WriteScope, change: (write: RoomTx) => Promise<T>): Promise<T> {
    return this.inOrder(scope.seminarId, async () => {
      const events: StoredEvent[] = [];
      const known = new SubjectCache();
      const result = await this.prisma.$transaction(
        async (tx) => {
          const room = await lockRoom(tx, scope, known);
          const append = async (items: NewFact[]) => {
            const stored = await appendEvents(tx, scope.seminarId, items);
            events.push(...stored);
            return stored;
          };
          return change({
            tx,
            room,
            known,
            // One fact is a one-item list; the stored event is the one appended, of the same type.
            append: async (type, actorId, fact) =>
              (await append([{ type, actorId, fact } as NewFact]))[0] as StoredEventOf<typeof type>,
            appendMany: append,
          });
        },
        { maxWait: 10_000, timeout: 20_000 },
      );
      if (events.length > 0) await this.publish(scope.seminarId, events, known);
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
