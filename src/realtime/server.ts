import type { Server as HttpServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { Server, type Socket } from "socket.io";
import type { z } from "zod";
import type { AppContext } from "../context.ts";
import { AppError, fail, fromZodError, toErrorBody } from "../errors.ts";
import { RateLimit } from "../http/rate-limit.ts";
import { resolveMember } from "../modules/seminars/seminars.service.ts";
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from "../protocol/events.ts";
import { LIMITS } from "../protocol/limits.ts";
import type { Result } from "../protocol/result.ts";
import { HandshakeAuth } from "../protocol/schemas.ts";
import type { MemberRole, TallyView } from "../protocol/views.ts";
import { Presence } from "./presence.ts";
import type { StoredEvent } from "./room-log.ts";
import { RoomWriter } from "./room-writer.ts";
import { presentEventFor } from "./visibility.ts";

export type TypedServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
export type TypedSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

/** Room names: everyone in a seminar, its moderators, its other members, one member's sockets. */
export const roomOf = {
  seminar: (seminarId: string) => `seminar:${seminarId}`,
  moderators: (seminarId: string) => `seminar:${seminarId}:moderators`,
  participants: (seminarId: string) => `seminar:${seminarId}:participants`,
  member: (memberId: string) => `member:${memberId}`,
};

/** The actor behind a socket, as handlers see it. */
export interface SocketActor {
  seminarId: string;
  memberId: string;
  role: MemberRole;
  displayName: string;
  accountId: string | null;
}

/** A command handler: parsed input and actor in, data for the ack out. */
export interface Command {
  schema: z.ZodType;
  run: (input: never, actor: SocketActor, socket: TypedSocket) => Promise<unknown>;
}

/** Declares a command: its payload schema and what it does. */
export function command<S extends z.ZodType, R>(
  schema: S,
  run: (input: z.output<S>, actor: SocketActor, socket: TypedSocket) => Promise<R>,
): Command {
  return { schema, run: run as Command["run"] };
}

/** The realtime layer: Socket.IO server, room writer, presence and the one notifier that emits. */
export interface Realtime {
  io: TypedServer;
  rooms: RoomWriter;
  presence: Presence;
  /** Registers commands (`<entity>:<verb>` -> Command) for every socket. */
  register(commands: Record<string, Command>): void;
  /** Sends a tally to the sockets allowed to see it. */
  publishTally(
    seminarId: string,
    audience: "everyone" | "moderators" | "participants",
    tally: TallyView,
  ): void;
  /** Sends a tally to one member's sockets. */
  publishTallyTo(memberId: string, tally: TallyView): void;
  /** Records a refreshed token's expiry on a socket and reschedules its disconnection. */
  renewToken(socket: TypedSocket, expiresAt: number): void;
  /** Disconnects a member's sockets so that their rights are decided again at connect. */
  disconnectMember(memberId: string, reason: string): void;
  close(): Promise<void>;
}

function connectError(error: unknown): Error {
  const { body } = toErrorBody(error);
  const err = new Error(body.message) as Error & { data: unknown };
  err.data = body;
  return err;
}

/** Creates the Socket.IO server on `httpServer` with authentication, limits and the room lifecycle. */
export function createRealtime(httpServer: HttpServer, context: AppContext): Realtime {
  const { logger, config } = context;
  const io: TypedServer = new Server(httpServer, {
    serveClient: false,
    maxHttpBufferSize: LIMITS.maxSocketMessageBytes,
    cors: config.corsOrigins.length > 0 ? { origin: config.corsOrigins } : undefined,
  });

  // With REDIS_URL, broadcasts reach the sockets of every node through Redis pub/sub.
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 })
    : undefined;
  const redisSubscriber = redis?.duplicate();
  if (redis && redisSubscriber) {
    for (const client of [redis, redisSubscriber]) {
      client.on("error", (error) => logger.warn({ err: error }, "redis error"));
    }
    io.adapter(createAdapter(redis, redisSubscriber));
  }

  // Room events leave in seq order. Membership events (joins) wait up to membershipBatchMs so
  // that a join storm sends one message per batch instead of one per join to everyone; any other
  // event flushes what is waiting first, so nothing is reordered and nothing else is delayed.
  const pending = new Map<string, { events: StoredEvent[]; timer: NodeJS.Timeout }>();
  const emitEvents = (seminarId: string, events: StoredEvent[]) => {
    for (const audience of ["moderators", "participants"] as const) {
      const room = audience === "moderators" ? roomOf.moderators(seminarId) : roomOf.participants(seminarId);
      const presented = events.map((event) => presentEventFor(event, audience));
      if (presented.length === 1) io.to(room).emit("room:event", presented[0]!);
      else io.to(room).emit("room:events", presented);
    }
  };
  const flushPending = (seminarId: string) => {
    const batch = pending.get(seminarId);
    if (!batch) return;
    pending.delete(seminarId);
    clearTimeout(batch.timer);
    emitEvents(seminarId, batch.events);
  };
  const publishEvents = (seminarId: string, events: StoredEvent[]) => {
    for (const event of events) context.metrics.roomEvents.inc({ type: event.type });
    if (events.every((event) => event.type === "member:joined")) {
      const batch = pending.get(seminarId);
      if (batch) batch.events.push(...events);
      else {
        const timer = setTimeout(() => flushPending(seminarId), LIMITS.membershipBatchMs);
        pending.set(seminarId, { events: [...events], timer });
      }
      return;
    }
    const waiting = pending.get(seminarId);
    if (waiting) {
      pending.delete(seminarId);
      clearTimeout(waiting.timer);
      emitEvents(seminarId, [...waiting.events, ...events]);
    } else {
      emitEvents(seminarId, events);
    }
  };
  const rooms = new RoomWriter(context.prisma, publishEvents);
  const presence = new Presence(
    (seminarId, delta) => io.to(roomOf.seminar(seminarId)).emit("presence:delta", delta),
    LIMITS.presenceFlushMs,
  );
  const commands = new Map<string, Command>();
  // Rate limits per socket, and per member so that five sockets do not multiply what one member
  // may send. One limiter each for the whole server (keys expire with their window).
  const socketLimiter = new RateLimit(
    LIMITS.socketEventsBurst,
    LIMITS.socketEventsBurst / LIMITS.socketEventsPerSecond,
  );
  const memberLimiter = new RateLimit(
    LIMITS.memberEventsBurst,
    LIMITS.memberEventsBurst / LIMITS.memberEventsPerSecond,
  );

  // A socket whose token expires is disconnected unless it refreshed (auth:refresh) in time.
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
        Math.max(0, left - 60_000),
      ),
      setTimeout(() => socket.disconnect(true), Math.max(0, left)),
    ]);
  };

  // Authenticate every connection, including recovered ones (skipMiddlewares: false above).
  io.use(async (socket, next) => {
    try {
      const parsed = HandshakeAuth.safeParse(socket.handshake.auth);
      if (!parsed.success) throw fail.unauthenticated("Connect with auth: { token }.");
      const claims = context.tokens.verify(parsed.data.token);
      const member = await resolveMember(context.prisma, claims, parsed.data.seminarId);
      if (presence.socketCount(member.seminarId, member.id) >= LIMITS.socketsPerMember) {
        throw new AppError("rate_limited", "Too many open connections for this member.");
      }
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
      // Reserve the slot now (synchronously) so a burst of connections cannot exceed the cap, and
      // release it when the transport closes: a socket refused or dropped before "connection"
      // never gets a "disconnect" event.
      presence.connect(member.seminarId, member.id, socket.id);
      socket.conn.once("close", () => presence.disconnect(member.seminarId, member.id, socket.id));
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
    };
    const moderator = data.role === "host" || data.role === "co_moderator";
    socket.join([
      roomOf.seminar(data.seminarId),
      moderator ? roomOf.moderators(data.seminarId) : roomOf.participants(data.seminarId),
      roomOf.member(data.memberId),
    ]);
    context.metrics.sockets.inc();
    socket.on("error", (error) => logger.warn({ err: error, socket: socket.id }, "socket error"));

    scheduleExpiry(socket);

    socket.use(([event, ...args], next) => {
      const ack = args.at(-1);
      const answer = (result: Result<never>) => {
        if (typeof ack === "function") ack(result);
      };
      socketLimiter
        .consume(socket.id)
        .then(() => memberLimiter.consume(data.memberId))
        .then(() => {
          if (!commands.has(event)) {
            answer({ ok: false, error: { code: "not_found", message: `Unknown event ${event}.` } });
          } else if (typeof ack !== "function") {
            logger.debug({ event, socket: socket.id }, "command without ack ignored");
          } else {
            next();
          }
        })
        .catch((error: unknown) => answer({ ok: false, error: toErrorBody(error).body }));
    });

    // Commands are registered from a map, so they go through the untyped base Socket; each one's
    // payload is parsed by its schema before anything else sees it.
    const untyped = socket as unknown as Socket;
    for (const [name, cmd] of commands) {
      untyped.on(name, async (...args: unknown[]) => {
        // The middleware above only lets packets through whose last argument is the ack; a
        // packet without a payload ([ack]) is parsed as an undefined payload.
        const ack = args.at(-1) as (result: Result<unknown>) => void;
        const payload = args.length >= 2 ? args[0] : undefined;
        const stop = context.metrics.commands.startTimer({ command: name });
        try {
          const parsed = cmd.schema.safeParse(payload);
          if (!parsed.success) throw fromZodError(parsed.error, `The ${name} payload is not valid.`);
          const result = await cmd.run(parsed.data as never, actor, socket);
          stop({ outcome: "ok" });
          ack({ ok: true, data: result });
        } catch (error) {
          const mapped = toErrorBody(error);
          stop({ outcome: mapped.body.code });
          if (mapped.unknown)
            logger.error({ err: error, command: name, member: actor.memberId }, "command failed");
          ack({ ok: false, error: mapped.body });
        }
      });
    }

    socket.on("disconnect", () => {
      context.metrics.sockets.dec();
      clearExpiry(socket);
      presence.disconnect(data.seminarId, data.memberId, socket.id);
    });
  });

  return {
    io,
    rooms,
    presence,
    register(more) {
      for (const [name, cmd] of Object.entries(more)) commands.set(name, cmd);
    },
    publishTally(seminarId, audience, tally) {
      const target =
        audience === "moderators"
          ? roomOf.moderators(seminarId)
          : audience === "participants"
            ? roomOf.participants(seminarId)
            : roomOf.seminar(seminarId);
      io.to(target).emit("tally:update", tally);
    },
    publishTallyTo(memberId, tally) {
      io.to(roomOf.member(memberId)).emit("tally:update", tally);
    },
    renewToken(socket, expiresAt) {
      socket.data.tokenExpiresAt = expiresAt;
      scheduleExpiry(socket);
    },
    disconnectMember(memberId, reason) {
      logger.info({ member: memberId, reason }, "disconnecting member");
      io.in(roomOf.member(memberId)).disconnectSockets(true);
    },
    async close() {
      for (const seminarId of [...pending.keys()]) flushPending(seminarId);
      presence.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await Promise.all([redis?.quit(), redisSubscriber?.quit()]);
    },
  };
}
