import type { Server as HttpServer } from "node:http";
import { Gauge } from "prom-client";
import { Server } from "socket.io";
import type { AppContext } from "../context.ts";
import { AppError, fail, toErrorBody } from "../errors.ts";
import { isModerator } from "../modules/seminars/seminars.policy.ts";
import { type ResolvedMember, resolveGuests, resolveMember } from "../modules/seminars/seminars.service.ts";
import { LIMITS } from "../protocol/limits.ts";
import { HandshakeAuth } from "../protocol/schemas.ts";
import { Admission } from "./admission.ts";
import { type CommandHandlers, type DispatchHooks, dispatch } from "./commands.ts";
import { Notifier, roomOf } from "./notifier.ts";
import { MemoryPresenceStore, Presence, RedisPresenceStore } from "./presence.ts";
import { RoomWriter } from "./room-writer.ts";
import type { SocketActor, TypedServer, TypedSocket } from "./types.ts";

export { roomOf } from "./notifier.ts";
export type { SocketActor, TypedServer, TypedSocket } from "./types.ts";

/**
 * What the realtime layer holds for sockets and rooms, by holder. Each count follows the sockets
 * and rooms that are active: once every socket has left, all are zero except the closes the
 * notifier has scheduled for ended rooms (they fire within LIMITS.endedRoomGraceMs).
 */
export interface RetainedEntries {
  /** Sockets with token-expiry timers. */
  expiryTimers: number;
  /** Commands running. */
  commands: number;
  /** This node's sockets and rooms in presence, and rooms with a presence delta pending. */
  presenceSockets: number;
  presenceRooms: number;
  presencePending: number;
  /** Rooms whose member:joined facts wait to be sent, and scheduled room closes. */
  notifierBatches: number;
  notifierCloses: number;
  /** Rooms with writes queued on this node. */
  writeQueues: number;
  /** Requests waiting at the admission gate, and keys with requests run together there. */
  admissionWaiting: number;
  admissionGroups: number;
}

/** The realtime layer: Socket.IO server, room writer, presence and the one notifier that emits. */
export interface Realtime {
  io: TypedServer;
  rooms: RoomWriter;
  presence: Presence;
  notifier: Notifier;
  /**
   * The node's gate for what a crowd asks for at once and each request reads from the database
   * (authenticating a connection, room:sync, join-code and resume lookups, REST snapshots).
   */
  admission: Admission;
  /** Installs the command table (one handler per command of the protocol). */
  handle(handlers: CommandHandlers): void;
  /**
   * Records a refreshed token's expiry on a socket and reschedules its disconnection (nothing for
   * a socket that has disconnected meanwhile).
   */
  renewToken(socket: TypedSocket, expiresAt: number): void;
  /** What this layer holds now for sockets and rooms (also exported on /metrics). */
  retained(): RetainedEntries;
  /**
   * Stops taking commands (new ones are answered `unavailable`), lets those in flight finish and
   * answer, tells every socket `connection:closing { reason: "shutting_down" }` and closes.
   */
  close(): Promise<void>;
}

/** A guest's connection to authenticate: its token's claims and the seminar it names, if any. */
type GuestRequest = Parameters<typeof resolveGuests>[1][number];

/** How long before a token's expiry its socket is told auth:expiring, at most (ms). */
const EXPIRING_NOTICE_MS = 60_000;

/**
 * When to send auth:expiring to a socket whose token has `leftMs` to live: a minute before expiry,
 * or halfway through a shorter lifetime. A refresh always buys a fresh lifetime, so the next notice
 * is at least half a lifetime away: a guest token shorter than a minute (GUEST_TOKEN_TTL) cannot
 * make the notice fire at once after every refresh, which set clients refreshing in a loop.
 */
export function expiringNoticeDelay(leftMs: number): number {
  return Math.max(0, leftMs - Math.min(EXPIRING_NOTICE_MS, leftMs / 2));
}

/**
 * Heartbeats a socket's presence entry may miss before it expires: a node that dies leaves its
 * members listed for at most this many heartbeats plus one (the sweep) and a presence flush.
 */
export const PRESENCE_MISSED_HEARTBEATS = 3;

/** How long close() lets connections write their closing message before cutting them (ms). */
const CLOSING_FLUSH_MS = 1_000;

/**
 * The longest a connection, room:sync or join waits for the database before it is told to come
 * back later (ms): well inside the clients' acknowledgement timeout (10 s), so every one of them
 * gets an answer.
 */
const ADMISSION_MAX_WAIT_MS = 3_000;

/**
 * Guests' connections are checked against the database together, at most every this many ms
 * while connections keep coming (admission.ts, TogetherOptions.spacingMs): a crowd connecting at
 * a few hundred a second is checked a dozen at a statement instead of one by one. A connection
 * arriving when none did within this time is checked at once.
 */
const CONNECT_CHECK_SPACING_MS = 50;

/** How long close() waits for commands in flight before closing anyway (ms). */
const DRAIN_COMMANDS_MS = 5_000;

function connectError(error: unknown): Error {
  const { body } = toErrorBody(error);
  const err = new Error(body.message) as Error & { data: unknown };
  err.data = body;
  return err;
}

/** Creates the Socket.IO server on `httpServer` with authentication, limits and the room lifecycle. */
export function createRealtime(httpServer: HttpServer, context: AppContext): Realtime {
  const { logger, config } = context;
  // No connection-state recovery: the room log and room:sync { since } are the delivery guarantee
  // (they survive restarts and node failures, recovery does not), and recovery appends an offset
  // argument to every broadcast, which breaks one-argument handlers in other clients.
  const io: TypedServer = new Server(httpServer, {
    serveClient: false,
    maxHttpBufferSize: LIMITS.maxSocketMessageBytes,
    cors: config.corsOrigins.length > 0 ? { origin: config.corsOrigins } : undefined,
  });

  // With REDIS_URL, broadcasts reach the sockets of every node through Redis pub/sub: the
  // publishing side shares the node's client, the subscribing side needs a connection of its own.
  const redis = context.redis?.client;
  if (context.redis) io.adapter(context.redis.adapter(`${config.redisPrefix}socket.io`));

  const notifier = new Notifier(io, context);
  const rooms = new RoomWriter(context.prisma, (seminarId, events, known) =>
    notifier.publishEvents(seminarId, events, known),
  );
  // Presence and the socket cap: in Redis across nodes (entries renewed every heartbeat and
  // expiring after three missed ones), else in this process.
  const presence = new Presence(
    redis
      ? new RedisPresenceStore(
          redis,
          config.redisPrefix,
          PRESENCE_MISSED_HEARTBEATS * config.presenceHeartbeatMs,
        )
      : new MemoryPresenceStore(),
    {
      delta: (seminarId, delta) => io.to(roomOf.moderators(seminarId)).emit("presence:delta", delta),
      update: (seminarId, update) => io.to(roomOf.participants(seminarId)).emit("presence:update", update),
    },
    logger,
    {
      flushMs: LIMITS.presenceFlushMs,
      listedMax: config.presenceListedMax,
      heartbeatMs: redis ? config.presenceHeartbeatMs : undefined,
      audience: (seminarId) => notifier.audienceSize(seminarId),
    },
  );
  // One connection of the pool stays free of admissions for room writes and ballots. (The embedded
  // database has one connection whatever the setting; there the pool's own queue orders them.)
  const admission = new Admission({
    slots: Math.max(1, config.databasePoolSize - 1),
    maxWaitMs: ADMISSION_MAX_WAIT_MS,
  });
  let handlers: CommandHandlers | undefined;
  let draining = false;
  const inFlight = new Set<Promise<void>>();

  // Rate limits per socket, and per member so that five sockets do not multiply what one member
  // may send. A socket lives on one node, so its count stays here; a member's is the deployment's
  // (Redis with several nodes), so sockets spread over nodes do not multiply it either.
  const socketLimiter = context.rateLimits.local(
    "socket_events",
    LIMITS.socketEventsBurst,
    LIMITS.socketEventsBurst / LIMITS.socketEventsPerSecond,
  );
  const memberLimiter = context.rateLimits.create(
    "member_events",
    LIMITS.memberEventsBurst,
    LIMITS.memberEventsBurst / LIMITS.memberEventsPerSecond,
  );
  // A socket that keeps sending after its refusals is closed: answering a flood of refusals would
  // otherwise keep this node's event loop busy and every other room's acks waiting (the floods
  // test measures it). Counted per socket; a reconnect costs the sender a handshake.
  const refusals = context.rateLimits.local(
    "socket_refusals",
    LIMITS.socketRefusalsBurst,
    LIMITS.socketRefusalsWindowSeconds,
  );
  const closeFlooding = async (socket: TypedSocket) => {
    try {
      await refusals.consume(socket.id);
    } catch {
      if (!socket.connected) return;
      logger.warn({ socket: socket.id, member: socket.data.memberId }, "closing a flooding socket");
      socket.emit("connection:closing", notifier.closingMessage("flooding"));
      socket.disconnect();
    }
  };
  const hooks: DispatchHooks = {
    async limit(socket, actor) {
      if (draining)
        throw new AppError("unavailable", "This server is shutting down; reconnect.", {
          retryAfterMs: 1_000,
        });
      try {
        await socketLimiter.consume(socket.id);
        await memberLimiter.consume(actor.memberId);
      } catch (error) {
        if (error instanceof AppError && error.code === "rate_limited") await closeFlooding(socket);
        throw error;
      }
    },
    logger,
    metrics: context.metrics,
  };

  // A socket whose token expires is told so and disconnected unless it refreshed (auth:refresh) in time.
  const expiryTimers = new Map<string, NodeJS.Timeout[]>();
  const clearExpiry = (socket: TypedSocket) => {
    for (const timer of expiryTimers.get(socket.id) ?? []) clearTimeout(timer);
    expiryTimers.delete(socket.id);
  };
  const scheduleExpiry = (socket: TypedSocket) => {
    clearExpiry(socket);
    const expiresAt = socket.data.tokenExpiresAt;
    const left = expiresAt - Date.now();
    expiryTimers.set(socket.id, [
      setTimeout(
        () => socket.emit("auth:expiring", { expiresAt: new Date(expiresAt).toISOString() }),
        expiringNoticeDelay(left),
      ),
      setTimeout(
        () => {
          socket.emit("connection:closing", notifier.closingMessage("token_expired"));
          socket.disconnect();
        },
        Math.max(0, left),
      ),
    ]);
  };

  // Authenticate every connection.
  io.use(async (socket, next) => {
    try {
      if (draining)
        throw new AppError("unavailable", "This server is shutting down; connect again.", {
          retryAfterMs: 1_000,
        });
      const parsed = HandshakeAuth.safeParse(socket.handshake.auth);
      if (!parsed.success) throw fail.unauthenticated("Connect with auth: { token }.");
      const claims = context.tokens.verify(parsed.data.token);
      // Guests connecting at the same moment are looked up together (one statement per turn).
      const seminarId = parsed.data.seminarId;
      const member =
        claims.kind === "guest"
          ? await admission.together<GuestRequest, ResolvedMember>(
              "connect:guests",
              { claims, seminarId },
              (requests) => resolveGuests(context.prisma, requests),
              { spacingMs: CONNECT_CHECK_SPACING_MS },
            )
          : await admission.run(() => resolveMember(context.prisma, claims, seminarId));
      socket.data = {
        seminarId: member.seminarId,
        memberId: member.id,
        accountId: member.accountId,
        role: member.role,
        displayName: member.displayName,
        tokenExpiresAt: claims.expiresAt,
        rightsVersion: member.rightsVersion,
      };
      // The client may have gone while we read the database: then there is nothing to admit.
      if (socket.conn.readyState !== "open")
        throw fail.unauthenticated("The connection closed during authentication.");
      // Take a slot under the per-member cap (one atomic step in the store, so a burst of
      // connections over several nodes cannot exceed it) and release it when the transport
      // closes: a socket refused or dropped before "connection" never gets a "disconnect" event.
      // The release is registered at once, and the store applies the two in the order sent.
      const admitted = presence.connect(
        member.seminarId,
        { id: member.id, displayName: member.displayName, moderator: isModerator(member.role) },
        socket.id,
        LIMITS.socketsPerMember,
      );
      socket.conn.once("close", () => void presence.disconnect(member.seminarId, member.id, socket.id));
      if (!(await admitted)) throw new AppError("rate_limited", "Too many open connections for this member.");
      next();
    } catch (error) {
      next(connectError(error));
    }
  });

  io.on("connection", (socket) => {
    const data = socket.data;
    const actor: SocketActor = {
      seminarId: data.seminarId,
      memberId: data.memberId,
      role: data.role,
      displayName: data.displayName,
      accountId: data.accountId,
      rightsVersion: data.rightsVersion,
    };
    socket.join([
      roomOf.seminar(data.seminarId),
      isModerator(data.role) ? roomOf.moderators(data.seminarId) : roomOf.participants(data.seminarId),
      roomOf.member(data.memberId),
    ]);
    context.metrics.sockets.inc();
    socket.on("error", (error) => logger.warn({ err: error, socket: socket.id }, "socket error"));
    scheduleExpiry(socket);

    // Every incoming message goes through the one dispatcher (commands.ts).
    socket.onAny((event: string, ...args: unknown[]) => {
      if (!handlers) return;
      const running = dispatch(handlers, hooks, { actor, socket }, event, args);
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
    });

    socket.on("disconnect", () => {
      context.metrics.sockets.dec();
      clearExpiry(socket);
      // Also released when the transport closes; the second release finds nothing to remove.
      void presence.disconnect(data.seminarId, data.memberId, socket.id);
    });
  });

  const retained = (): RetainedEntries => {
    const held = presence.retained();
    const notes = notifier.retained();
    const gate = admission.stats();
    return {
      expiryTimers: expiryTimers.size,
      commands: inFlight.size,
      presenceSockets: held.sockets,
      presenceRooms: held.rooms,
      presencePending: held.pending,
      notifierBatches: notes.batches,
      notifierCloses: notes.closes,
      writeQueues: rooms.queuedRooms(),
      admissionWaiting: gate.waiting,
      admissionGroups: gate.groups,
    };
  };
  new Gauge({
    name: "stepstone_realtime_retained_entries",
    help: "Entries the realtime layer holds for sockets and rooms, by holder (each falls back to zero when every socket has left)",
    labelNames: ["holder"],
    registers: [context.metrics.registry],
    collect() {
      for (const [holder, count] of Object.entries(retained())) this.set({ holder }, count);
    },
  });

  return {
    io,
    rooms,
    presence,
    notifier,
    admission,
    handle(table) {
      handlers = table;
    },
    renewToken(socket, expiresAt) {
      // A refresh answered after its socket left would arm timers that hold the socket until the
      // token expires (an hour): its disconnect has already cleared what there was.
      if (!socket.connected) return;
      socket.data.tokenExpiresAt = expiresAt;
      scheduleExpiry(socket);
    },
    retained,
    async close() {
      draining = true;
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, DRAIN_COMMANDS_MS).unref());
      await Promise.race([Promise.allSettled([...inFlight]), timeout]);
      notifier.flushAll();
      // disconnect(true) closes each connection once what it has queued (the closing message) is
      // written; io.close() would discard it. Wait for those writes, bounded, then close the rest.
      for (const socket of io.of("/").sockets.values()) {
        socket.emit("connection:closing", notifier.closingMessage("shutting_down"));
        socket.disconnect(true);
      }
      const flushed = Date.now() + CLOSING_FLUSH_MS;
      while (io.engine.clientsCount > 0 && Date.now() < flushed) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await presence.close();
    },
  };
}
