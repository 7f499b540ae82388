import type { Redis, Result } from "ioredis";
import { z } from "zod";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { PresenceDelta, PresenceUpdate } from "../protocol/events.ts";
import { audienceIntervalMs, LIMITS } from "../protocol/limits.ts";
import { summarisePresence } from "../protocol/room-state.ts";
import type { PresenceView } from "../protocol/views.ts";

/** What the store found while adding a socket. */
export interface Admission {
  /** False when the member already holds `cap` sockets in the room (on any node). */
  admitted: boolean;
  /** The member had no socket in the room before this one. */
  joined: boolean;
  /** Members whose last socket had expired (their node stopped renewing them). */
  expired: string[];
}

/**
 * Who is connected to each room, over every node of the deployment. One socket is one entry; a
 * member is present while they have one. Every change answers which members it made appear or
 * disappear, so that exactly one node (the one that made the change) announces it.
 */
export interface PresenceStore {
  /** Adds a socket unless its member already holds `cap` in the room (the name goes with presence). */
  add(seminarId: string, member: PresentMember, socketId: string, cap: number): Promise<Admission>;
  /** Removes a socket (nothing if unknown); true when it was the member's last. */
  remove(seminarId: string, memberId: string, socketId: string): Promise<boolean>;
  /** Records what a present member reads; true when it changed. */
  focus(seminarId: string, memberId: string, paragraphId: string | null): Promise<boolean>;
  /** Everyone present now, when it was read (the store's clock), and the members found expired on the way. */
  list(seminarId: string): Promise<Listing & { expired: string[] }>;
  /**
   * Keeps this node's sockets alive (`[memberId, socketId]` pairs); answers the members found
   * expired and those that reappear because an entry of theirs had expired and is renewed.
   */
  renew(seminarId: string, sockets: LocalSocket[]): Promise<{ expired: string[]; rejoined: string[] }>;
  /** The rooms this process holds entries for (none for a shared store, whose entries expire). */
  heldRooms(): Iterable<string>;
}

/** A member as presence shows them. */
export interface PresentMember {
  id: string;
  displayName: string;
  /** Listed to everyone in a large room, where participants get the others only as counts. */
  moderator: boolean;
}

/** A present member as the store holds them. */
export interface PresentEntry extends PresenceView {
  moderator: boolean;
}

/** Everyone present in a room, as read at `at` (ms since the epoch, in the store's clock). */
export interface Listing {
  present: PresentEntry[];
  at: number;
}

/**
 * Presence as one viewer gets it: moderators, and everyone in a room of at most `listedMax`
 * present, the whole list; participants and observers of a larger room the moderators present,
 * and the rest as counts (presenceSummary.complete false).
 */
export function presenceFor(listing: Listing, moderator: boolean, listedMax: number): PresenceUpdate {
  const all = listing.present.map(({ memberId, displayName, paragraphId }) => ({
    memberId,
    displayName,
    paragraphId,
  }));
  const presenceSummary = summarisePresence(all, listing.at);
  if (moderator || all.length <= listedMax) return { presence: all, presenceSummary };
  return {
    presence: all.filter((_, i) => listing.present[i]!.moderator),
    presenceSummary: { ...presenceSummary, complete: false },
  };
}

/** One socket of this node: its id and its member. */
export interface LocalSocket {
  socketId: string;
  member: PresentMember;
}

/** One node: the sockets of this process are all there is, and nothing expires. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly rooms = new Map<
    string,
    Map<string, { sockets: Set<string>; displayName: string; moderator: boolean; paragraphId: string | null }>
  >();

  async add(seminarId: string, present: PresentMember, socketId: string, cap: number): Promise<Admission> {
    const room = this.rooms.get(seminarId) ?? new Map();
    this.rooms.set(seminarId, room);
    const member = room.get(present.id);
    if (member && member.sockets.size >= cap) return { admitted: false, joined: false, expired: [] };
    if (member) member.sockets.add(socketId);
    else
      room.set(present.id, {
        sockets: new Set([socketId]),
        displayName: present.displayName,
        moderator: present.moderator,
        paragraphId: null,
      });
    return { admitted: true, joined: !member, expired: [] };
  }

  async remove(seminarId: string, memberId: string, socketId: string): Promise<boolean> {
    const room = this.rooms.get(seminarId);
    const member = room?.get(memberId);
    if (!room || !member?.sockets.delete(socketId)) return false;
    if (member.sockets.size > 0) return false;
    room.delete(memberId);
    if (room.size === 0) this.rooms.delete(seminarId);
    return true;
  }

  async focus(seminarId: string, memberId: string, paragraphId: string | null): Promise<boolean> {
    const member = this.rooms.get(seminarId)?.get(memberId);
    if (!member || member.paragraphId === paragraphId) return false;
    member.paragraphId = paragraphId;
    return true;
  }

  async list(seminarId: string) {
    const room = this.rooms.get(seminarId) ?? new Map();
    const present = [...room].map(([memberId, member]) => ({
      memberId,
      displayName: member.displayName,
      paragraphId: member.paragraphId,
      moderator: member.moderator,
    }));
    return { present, at: Date.now(), expired: [] };
  }

  async renew() {
    return { expired: [], rejoined: [] };
  }

  heldRooms() {
    return this.rooms.keys();
  }
}

// Four keys per room, with the room id as hash tag (one Redis Cluster slot): the room's sockets
// (sorted set "<memberId> <socketId>" scored by expiry in Redis's own clock, so nodes' clocks do not
// matter), sockets per member (hash), what each member reads (hash) and present members' names
// (hash). Each script does all of one change atomically, sweeping expired entries first, and
// answers who appeared or disappeared.
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function sweep(now)
  local gone = {}
  for _, entry in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
    redis.call('ZREM', KEYS[1], entry)
    local member = string.match(entry, '^(%S+)')
    if redis.call('HINCRBY', KEYS[2], member, -1) <= 0 then
      redis.call('HDEL', KEYS[2], member)
      redis.call('HDEL', KEYS[3], member)
      redis.call('HDEL', KEYS[4], member)
      table.insert(gone, member)
    end
  end
  return gone
end
local function keep(ttl)
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ttl * 2) end
end
`;

const SCRIPTS = {
  // ARGV: member, socket, ttl, cap, name -> { admitted, joined, expired }
  presenceAdd: `${PRELUDE}
local now = now_ms()
local gone = sweep(now)
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if held >= tonumber(ARGV[4]) then return { 0, 0, gone } end
-- An entry already there (a renewal got first) is counted already.
if redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1] .. ' ' .. ARGV[2]) == 1 and
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1) == 1 then
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
end
keep(tonumber(ARGV[3]))
return { 1, held == 0 and 1 or 0, gone }`,
  // ARGV: member, socket -> 1 when the member's last socket went
  presenceRemove: `
if redis.call('ZREM', KEYS[1], ARGV[1] .. ' ' .. ARGV[2]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[1], -1) > 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1`,
  // ARGV: member, paragraph ('' for none) -> 1 when changed
  presenceFocus: `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
local current = redis.call('HGET', KEYS[3], ARGV[1]) or ''
if current == ARGV[2] then return 0 end
if ARGV[2] == '' then redis.call('HDEL', KEYS[3], ARGV[1]) else redis.call('HSET', KEYS[3], ARGV[1], ARGV[2]) end
return 1`,
  // -> { expired, names (flat: member, name), focus (flat), now }
  presenceList: `${PRELUDE}
local now = now_ms()
local gone = sweep(now)
return { gone, redis.call('HGETALL', KEYS[4]), redis.call('HGETALL', KEYS[3]), now }`,
  // ARGV: ttl, then "<member> <socket>" entries each followed by the member's name -> { expired, rejoined }
  presenceRenew: `${PRELUDE}
local now = now_ms()
local ttl = tonumber(ARGV[1])
local gone = sweep(now)
local back = {}
for i = 2, #ARGV, 2 do
  if redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) == 1 then
    local member = string.match(ARGV[i], '^(%S+)')
    if redis.call('HINCRBY', KEYS[2], member, 1) == 1 then
      redis.call('HSET', KEYS[4], member, ARGV[i + 1])
      table.insert(back, member)
    end
  end
end
keep(ttl)
return { gone, back }`,
} as const;

type ScriptArgs = [
  sockets: string,
  counts: string,
  focus: string,
  names: string,
  ...args: (string | number)[],
];

// The scripts become commands of the client (ioredis's defineCommand: EVALSHA, loading the script
// when Redis does not know it); declared here so that they are typed.
declare module "ioredis" {
  interface RedisCommander<Context> {
    presenceAdd(...args: ScriptArgs): Result<unknown, Context>;
    presenceRemove(...args: ScriptArgs): Result<unknown, Context>;
    presenceFocus(...args: ScriptArgs): Result<unknown, Context>;
    presenceList(...args: ScriptArgs): Result<unknown, Context>;
    presenceRenew(...args: ScriptArgs): Result<unknown, Context>;
  }
}

const ids = z.array(z.string());
const AddAnswer = z.tuple([z.number(), z.number(), ids]);
const FlagAnswer = z.number();
const ListAnswer = z.tuple([ids, ids, ids, z.number()]);

// A present member's entry in the names hash: "m:" (moderator) or "p:", then the name.
const storedName = (member: PresentMember) => `${member.moderator ? "m" : "p"}:${member.displayName}`;
function parseStoredName(stored: string): { displayName: string; moderator: boolean } {
  if (stored.startsWith("m:") || stored.startsWith("p:"))
    return { displayName: stored.slice(2), moderator: stored.startsWith("m:") };
  // Written by a node from before roles were kept: shown as a participant until they reconnect.
  return { displayName: stored, moderator: false };
}
const RenewAnswer = z.tuple([ids, ids]);

/**
 * Several nodes: presence in Redis. Each node renews its sockets' entries every heartbeat; an
 * entry not renewed for `ttlMs` expires, and the next change, list or renewal in that room sweeps
 * it (and announces the member's departure when it was their last).
 */
export class RedisPresenceStore implements PresenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {
    for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 4, lua });
  }

  private keys(seminarId: string): [string, string, string, string] {
    const base = `${this.prefix}presence:{${seminarId}}`;
    return [`${base}:sockets`, `${base}:counts`, `${base}:focus`, `${base}:names`];
  }

  async add(seminarId: string, member: PresentMember, socketId: string, cap: number): Promise<Admission> {
    const answer = await this.redis.presenceAdd(
      ...this.keys(seminarId),
      member.id,
      socketId,
      this.ttlMs,
      cap,
      storedName(member),
    );
    const [admitted, joined, expired] = AddAnswer.parse(answer);
    return { admitted: admitted === 1, joined: joined === 1, expired };
  }

  async remove(seminarId: string, memberId: string, socketId: string): Promise<boolean> {
    return (
      FlagAnswer.parse(await this.redis.presenceRemove(...this.keys(seminarId), memberId, socketId)) === 1
    );
  }

  async focus(seminarId: string, memberId: string, paragraphId: string | null): Promise<boolean> {
    const answer = await this.redis.presenceFocus(...this.keys(seminarId), memberId, paragraphId ?? "");
    return FlagAnswer.parse(answer) === 1;
  }

  async list(seminarId: string) {
    const [expired, namesFlat, focusFlat, at] = ListAnswer.parse(
      await this.redis.presenceList(...this.keys(seminarId)),
    );
    const focus = new Map<string, string>();
    for (let i = 0; i + 1 < focusFlat.length; i += 2) focus.set(focusFlat[i]!, focusFlat[i + 1]!);
    const present: PresentEntry[] = [];
    for (let i = 0; i + 1 < namesFlat.length; i += 2) {
      const memberId = namesFlat[i]!;
      const paragraphId = focus.get(memberId) ?? null;
      present.push({ memberId, ...parseStoredName(namesFlat[i + 1]!), paragraphId });
    }
    return { present, at, expired };
  }

  heldRooms() {
    return [];
  }

  async renew(seminarId: string, sockets: LocalSocket[]) {
    const entries = sockets.flatMap(({ socketId, member }) => [
      `${member.id} ${socketId}`,
      storedName(member),
    ]);
    const answer = await this.redis.presenceRenew(...this.keys(seminarId), this.ttlMs, ...entries);
    const [expired, rejoined] = RenewAnswer.parse(answer);
    return { expired, rejoined };
  }
}

interface Pending {
  /** Members who appeared: id -> name. */
  joined: Map<string, string>;
  left: Set<string>;
  /** What members read now: id -> their entry. */
  focus: Map<string, PresenceView>;
}

/** How often a room's presence goes out: the interval, longer for a room of many sockets. */
export function presenceIntervalMs(flushMs: number, sockets: number): number {
  return audienceIntervalMs(flushMs, sockets, LIMITS.presenceFlushPerSocketMs, LIMITS.presenceFlushMaxMs);
}

/**
 * Whether a room of `sockets` sockets whose last delta went out at `lastAt` (undefined: not
 * within presenceFlushMaxMs) gets its pending delta on a flush at `now`. The flush timer's own
 * jitter aside (a tenth of the interval), a room waits out its interval.
 */
export function presenceDue(
  lastAt: number | undefined,
  now: number,
  flushMs: number,
  sockets: number,
): boolean {
  return lastAt === undefined || now - lastAt >= presenceIntervalMs(flushMs, sockets) - flushMs / 10;
}

/** Where a room's presence goes: the moderators' delta, and the others' presence whole. */
export interface PresenceEmitter {
  delta(seminarId: string, delta: PresenceDelta): void;
  update(seminarId: string, update: PresenceUpdate): void;
}

/**
 * Presence as the rooms see it: who is connected and what they read. Ephemeral (not in the event
 * log); kept by a store (in memory on one node, in Redis across nodes). The changes this node
 * makes or detects are coalesced and flushed per room every `flushMs` (every node's sockets get
 * them through the adapter): the moderators as one delta, the participants and observers as the
 * room's presence read again from the store (presenceFor: the whole list, or in a room of more
 * than `listedMax` present the moderators and counts), so a lecture hall's entrants do not cost
 * everyone the roster. A room of thousands gets them less often (presenceIntervalMs, given
 * `audience`: the sockets of this node in a room). With `heartbeatMs`, this node's sockets are
 * renewed in the store on that interval, which is also when expired ones are swept.
 */
export class Presence {
  /** This node's sockets: seminar -> socket -> member. */
  private readonly local = new Map<string, Map<string, PresentMember>>();
  /** Sockets of `local` the store has not admitted yet (not renewed: a refusal must leave no entry). */
  private readonly admitting = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  /** When each room's last delta went out (rooms flushed within presenceFlushMaxMs). */
  private readonly flushedAt = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Updates being read from the store (close waits for them: they publish through the adapter). */
  private readonly updating = new Set<Promise<void>>();
  private readonly flushMs: number;
  private readonly audience: (seminarId: string) => number;
  private readonly listedMax: number;

  constructor(
    private readonly store: PresenceStore,
    private readonly emit: PresenceEmitter,
    private readonly logger: Logger,
    options: {
      flushMs: number;
      /** Participants and observers get presence by name in a room of at most this many present. */
      listedMax: number;
      heartbeatMs?: number;
      audience?: (seminarId: string) => number;
    },
  ) {
    this.flushMs = options.flushMs;
    this.listedMax = options.listedMax;
    this.audience = options.audience ?? (() => 0);
    this.timers.push(setInterval(() => this.flush(), options.flushMs));
    if (options.heartbeatMs !== undefined)
      this.timers.push(setInterval(() => void this.renewAll(), options.heartbeatMs));
    for (const timer of this.timers) timer.unref();
  }

  /**
   * Admits a socket of `memberId` unless the member holds `cap` sockets in the room already (on
   * any node). Throws `unavailable` (retryable) when the store does not answer.
   */
  async connect(seminarId: string, member: PresentMember, socketId: string, cap: number): Promise<boolean> {
    // Recorded before the store answers, so that a disconnect arriving meanwhile removes it.
    const sockets = this.local.get(seminarId) ?? new Map<string, PresentMember>();
    this.local.set(seminarId, sockets);
    sockets.set(socketId, member);
    this.admitting.add(socketId);
    try {
      const admission = await this.store.add(seminarId, member, socketId, cap);
      this.admitting.delete(socketId);
      this.gone(seminarId, admission.expired);
      if (!admission.admitted) this.forget(seminarId, socketId);
      else if (admission.joined) this.appeared(seminarId, [member]);
      return admission.admitted;
    } catch (error) {
      this.admitting.delete(socketId);
      this.forget(seminarId, socketId);
      return this.unavailable(error);
    }
  }

  /** How many sockets of `memberId` this node holds in the room (admitted or being admitted). */
  socketCount(seminarId: string, memberId: string): number {
    let count = 0;
    for (const member of this.local.get(seminarId)?.values() ?? []) if (member.id === memberId) count++;
    return count;
  }

  /** A socket disconnected (or was refused); the member leaves when it was their last. */
  async disconnect(seminarId: string, memberId: string, socketId: string): Promise<void> {
    this.forget(seminarId, socketId);
    try {
      if (await this.store.remove(seminarId, memberId, socketId)) this.gone(seminarId, [memberId]);
    } catch (error) {
      // The entry expires by itself within the store's time to live.
      this.logger.warn({ err: error, seminar: seminarId }, "presence store unavailable at disconnect");
    }
  }

  /** The member reads `paragraphId` now. Throws `unavailable` when the store does not answer. */
  async focus(seminarId: string, member: PresentMember, paragraphId: string | null): Promise<void> {
    const changed = await this.store.focus(seminarId, member.id, paragraphId).catch(this.unavailable);
    if (changed) {
      const entry = { memberId: member.id, displayName: member.displayName, paragraphId };
      this.pendingOf(seminarId).focus.set(member.id, entry);
    }
  }

  /** Everyone connected to the room now, on every node. Throws `unavailable` when the store does not answer. */
  async list(seminarId: string): Promise<Listing> {
    const { present, at, expired } = await this.store.list(seminarId).catch(this.unavailable);
    this.gone(seminarId, expired);
    return { present, at };
  }

  /** A listing as a moderator (or not) gets it. */
  viewFor(listing: Listing, moderator: boolean): PresenceUpdate {
    return presenceFor(listing, moderator, this.listedMax);
  }

  /**
   * Sends the pending delta of every changed room whose interval has passed (of every changed
   * room with `all`).
   */
  flush(options: { all?: boolean } = {}): void {
    const now = Date.now();
    for (const [seminarId, at] of this.flushedAt) {
      if (now - at >= LIMITS.presenceFlushMaxMs) this.flushedAt.delete(seminarId);
    }
    for (const [seminarId, pending] of this.pending) {
      const last = this.flushedAt.get(seminarId);
      if (!options.all && !presenceDue(last, now, this.flushMs, this.audience(seminarId))) continue;
      this.pending.delete(seminarId);
      this.flushedAt.set(seminarId, now);
      const delta: PresenceDelta = {
        joined: [...pending.joined].map(([memberId, displayName]) => ({
          memberId,
          displayName,
          paragraphId: pending.focus.get(memberId)?.paragraphId ?? null,
        })),
        left: [...pending.left],
        focus: [...pending.focus.values()].filter((entry) => !pending.joined.has(entry.memberId)),
      };
      this.emit.delta(seminarId, delta);
      const update = this.sendUpdate(seminarId);
      this.updating.add(update);
      void update.finally(() => this.updating.delete(update));
    }
  }

  /**
   * What this node holds: its sockets, the rooms they are in (here and, for a store in this
   * process, in the store) and rooms with a delta waiting for the next flush.
   */
  retained(): { sockets: number; rooms: number; pending: number } {
    let sockets = 0;
    for (const room of this.local.values()) sockets += room.size;
    const rooms = new Set([...this.local.keys(), ...this.store.heldRooms()]).size;
    return { sockets, rooms, pending: this.pending.size };
  }

  /**
   * Stops the timers and sends what is pending (the store's entries go with the sockets);
   * resolves once the last updates are sent, before the caller closes Redis under the adapter.
   */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.flush({ all: true });
    await Promise.allSettled([...this.updating]);
  }

  /** Renews every socket of this node, room by room, and announces what the sweeps found. */
  private async renewAll(): Promise<void> {
    for (const [seminarId, sockets] of this.local) {
      try {
        const entries = [...sockets]
          .filter(([socketId]) => !this.admitting.has(socketId))
          .map(([socketId, member]) => ({ socketId, member }));
        const { expired, rejoined } = await this.store.renew(seminarId, entries);
        this.gone(seminarId, expired);
        const back = new Set(rejoined);
        const members = new Map(entries.map(({ member }) => [member.id, member]));
        this.appeared(
          seminarId,
          [...members.values()].filter((member) => back.has(member.id)),
        );
      } catch (error) {
        this.logger.warn({ err: error, seminar: seminarId }, "presence renewal failed");
      }
    }
  }

  /**
   * Participants and observers get the room's presence read again (not this node's delta: in a
   * large room they get counts, which only the store knows over every node). Updates that cross
   * arrive in any order; clients keep the newest `at`.
   */
  private async sendUpdate(seminarId: string): Promise<void> {
    try {
      const listing = await this.list(seminarId);
      this.emit.update(seminarId, this.viewFor(listing, false));
    } catch {
      // Logged by list; the next change in the room sends presence whole again.
    }
  }

  /** A store failure, logged, becomes a retryable answer. */
  private readonly unavailable = (error: unknown): never => {
    this.logger.warn({ err: error }, "presence store unavailable");
    throw new AppError("unavailable", "Presence is unavailable for a moment; try again shortly.", {
      retryAfterMs: 1_000,
    });
  };

  private forget(seminarId: string, socketId: string): void {
    const sockets = this.local.get(seminarId);
    sockets?.delete(socketId);
    if (sockets?.size === 0) this.local.delete(seminarId);
  }

  private pendingOf(seminarId: string): Pending {
    let pending = this.pending.get(seminarId);
    if (!pending) {
      pending = { joined: new Map(), left: new Set(), focus: new Map() };
      this.pending.set(seminarId, pending);
    }
    return pending;
  }

  private appeared(seminarId: string, members: PresentMember[]): void {
    if (members.length === 0) return;
    const pending = this.pendingOf(seminarId);
    for (const member of members) {
      pending.left.delete(member.id);
      pending.joined.set(member.id, member.displayName);
    }
  }

  private gone(seminarId: string, memberIds: string[]): void {
    if (memberIds.length === 0) return;
    const pending = this.pendingOf(seminarId);
    for (const memberId of memberIds) {
      pending.focus.delete(memberId);
      // Announced even when their arrival was not yet: a snapshot taken in between lists them.
      pending.joined.delete(memberId);
      pending.left.add(memberId);
    }
  }
}
