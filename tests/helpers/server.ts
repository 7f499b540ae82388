import type { AddressInfo } from "node:net";
import { io as connectClient, type Socket } from "socket.io-client";
import { afterAll } from "vitest";
import { type Application, createApplication } from "../../src/app.ts";
import { buildConfig } from "../../src/config.ts";
import { createPrismaClient, type PrismaClient } from "../../src/db/client.ts";
import { createLogger } from "../../src/logger.ts";
import type { CommandName, CommandPayload, CommandResult } from "../../src/protocol/commands.ts";
import type { ClientToServerEvents, ServerToClientEvents } from "../../src/protocol/events.ts";
import { type ErrorBody, type Result, retryAfterMs } from "../../src/protocol/result.ts";
import { firstSeq, RoomStream } from "../../src/protocol/room-state.ts";
import type { RoomStreamEvent, SyncView, TallyView } from "../../src/protocol/views.ts";
import { type TestDatabase, useTestDatabase } from "./database.ts";

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A running server on its own database, listening on a free port. */
export interface TestServer {
  url: string;
  db: TestDatabase;
  prisma: PrismaClient;
  app: Application;
  /** Stops the server and starts a new one on the same port and database. */
  restart(): Promise<void>;
  /** Calls the HTTP API; returns status and parsed body. */
  http<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: Result<T> }>;
}

/**
 * Starts the real application (real PostgreSQL, real Socket.IO) for the calling test file.
 * `env` overrides configuration (for example short token lifetimes); `database` makes it a second
 * node on another server's database.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { database?: TestDatabase } = {},
): Promise<TestServer> {
  // A second node of the same deployment shares the first one's database.
  const db = options.database ?? (await useTestDatabase());
  const config = buildConfig({ JWT_SECRET: "test-secret-test-secret-test-secret-1234", ...env });
  const logger = createLogger({ logLevel: process.env.TEST_LOG_LEVEL === undefined ? "silent" : "info" });
  const openPrisma = () =>
    createPrismaClient(db.url, {
      maxConnections: config.databasePoolSize,
      statementTimeoutMs: config.databaseTimeouts.statementMs,
      idleInTransactionTimeoutMs: config.databaseTimeouts.idleInTransactionMs,
    });
  let prisma = openPrisma();
  let app = await createApplication({ config, prisma, logger, databaseUrl: db.url });
  await new Promise<void>((resolve) => app.httpServer.listen(0, "127.0.0.1", resolve));
  const port = (app.httpServer.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  app.setPublicUrl(url);

  const server: TestServer = {
    url,
    db,
    prisma,
    app,
    async restart() {
      // As main.ts stops: idle keep-alive connections are closed first, long before the new server
      // listens on the port, so the test's HTTP client does not reuse one the old server dropped.
      await app.finishRequests(5_000);
      await app.close();
      await prisma.$disconnect();
      prisma = openPrisma();
      app = await createApplication({ config, prisma, logger, databaseUrl: db.url });
      await new Promise<void>((resolve) => app.httpServer.listen(port, "127.0.0.1", resolve));
      app.setPublicUrl(url);
      server.app = app;
      server.prisma = prisma;
    },
    async http(method, path, body, token) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    },
  };
  afterAll(async () => {
    await app.close();
    await prisma.$disconnect();
  });
  return server;
}

/** Opens a real socket.io-client connection and waits for connect (or rejects with the connect_error). */
export async function connect(
  url: string,
  auth: { token: string; seminarId?: string },
  options: { reconnection?: boolean } = {},
): Promise<ClientSocket> {
  const socket: ClientSocket = connectClient(url, {
    auth,
    transports: ["websocket"],
    reconnection: options.reconnection ?? false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
  return socket;
}

/** Sends a command, typed by the protocol (name, payload and ack), and resolves with its ack. */
export function send<E extends CommandName>(
  socket: ClientSocket,
  event: E,
  payload: CommandPayload<E>,
): Promise<Result<CommandResult<E>>> {
  return sendRaw<CommandResult<E>>(socket, event, payload);
}

/**
 * Sends anything under any name, bypassing the typed contract: only for tests of what the server
 * does with malformed payloads and unknown commands (what a hostile client can send).
 */
export function sendRaw<T = unknown>(
  socket: ClientSocket,
  event: string,
  payload: unknown,
): Promise<Result<T>> {
  return (socket as unknown as Socket).timeout(10_000).emitWithAck(event, payload) as Promise<Result<T>>;
}

/**
 * A test participant: a socket plus a RoomStream that applies events in order, with gap filling
 * through room:sync, exactly as a real client does.
 */
export class RoomClient {
  readonly stream = new RoomStream();
  readonly received: RoomStreamEvent[] = [];
  readonly tallies: TallyView[] = [];
  /** Failures of the room:sync calls a gap started on its own (while open); a test may check them. */
  readonly syncErrors: unknown[] = [];
  private closed = false;

  private constructor(readonly socket: ClientSocket) {
    socket.on("room:event", (event) => {
      this.received.push(event);
      if (this.stream.receive(event)) this.fillGap();
    });
    socket.on("room:events", (events) => {
      this.received.push(...events);
      let gap = false;
      for (const event of events) gap = this.stream.receive(event) || gap;
      if (gap) this.fillGap();
    });
    socket.on("presence:delta", (delta) => this.stream.receivePresence(delta));
    socket.on("presence:update", (update) => this.stream.receivePresenceUpdate(update));
    socket.on("tally:update", (tally) => {
      this.tallies.push(tally);
      if (this.stream.state) {
        const idx = this.stream.state.tallies.findIndex((t) => t.promptId === tally.promptId);
        const current = idx >= 0 ? this.stream.state.tallies[idx]! : undefined;
        if (!current || current.version < tally.version) {
          if (idx >= 0) this.stream.state.tallies[idx] = tally;
          else this.stream.state.tallies.push(tally);
        }
      }
    });
  }

  /**
   * Connects and loads the room (snapshot, or catch-up after `since`). A connection or room:sync
   * answered `unavailable` (the server is busy) is tried again after the `retryAfterMs` it names,
   * as the web client does; `onRefused` sees each such answer.
   */
  static async join(
    url: string,
    auth: { token: string; seminarId?: string },
    stream?: RoomStream,
    options: { onRefused?: (step: "connect" | "room:sync", error: ErrorBody) => void } = {},
  ): Promise<RoomClient> {
    let socket: ClientSocket | undefined;
    while (!socket) {
      try {
        socket = await connect(url, auth);
      } catch (error) {
        const body = (error as Error & { data?: ErrorBody }).data;
        if (body?.code !== "unavailable") throw error;
        options.onRefused?.("connect", body);
        await waitAsHinted(body);
      }
    }
    const client = new RoomClient(socket);
    if (stream) Object.assign(client.stream, { state: structuredClone(stream.state) });
    for (;;) {
      const result = await client.requestSync();
      if (result.ok) return client;
      if (result.error.code !== "unavailable") {
        client.close();
        throw new Error(`room:sync failed: ${result.error.code} ${result.error.message}`);
      }
      options.onRefused?.("room:sync", result.error);
      await waitAsHinted(result.error);
    }
  }

  /**
   * Calls room:sync with the last applied seq (or for a snapshot). One at a time, as the web
   * client does: a call while one is in flight waits for it, then asks again.
   */
  async sync(): Promise<SyncView> {
    const result = await this.requestSync();
    if (!result.ok) throw new Error(`room:sync failed: ${result.error.code} ${result.error.message}`);
    return result.data;
  }

  private syncInFlight: Promise<unknown> = Promise.resolve();

  /** One room:sync after those in flight, applied to the stream when it succeeds. */
  private requestSync(): Promise<Result<SyncView>> {
    const request = this.syncInFlight.then(async () => {
      this.stream.syncing();
      const result = await send(
        this.socket,
        "room:sync",
        this.stream.state ? { since: this.stream.seq } : {},
      ).catch((error: unknown) => {
        this.stream.syncAbandoned();
        throw error;
      });
      if (result.ok) this.stream.sync(result.data);
      else this.stream.syncAbandoned();
      return result;
    });
    this.syncInFlight = request.catch(() => undefined);
    return request;
  }

  /** Sends a command, typed by the protocol; resolves with its ack. */
  send<E extends CommandName>(event: E, payload: CommandPayload<E>): Promise<Result<CommandResult<E>>> {
    return send(this.socket, event, payload);
  }

  /** Sends anything (malformed-payload tests only); resolves with the ack. */
  sendRaw<T = unknown>(event: string, payload: unknown): Promise<Result<T>> {
    return sendRaw<T>(this.socket, event, payload);
  }

  /** Waits until the applied seq reaches `seq`. */
  async waitForSeq(seq: number, timeoutMs = 10_000): Promise<void> {
    const started = Date.now();
    while (this.stream.seq < seq) {
      if (Date.now() - started > timeoutMs)
        throw new Error(`timed out at seq ${this.stream.seq}, waiting for ${seq}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Catches up after a gap; a sync cut short because the test closed the client is no failure. */
  private fillGap(): void {
    this.sync().catch((error: unknown) => {
      if (!this.closed) this.syncErrors.push(error);
    });
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }
}

/** Every seq the stream entries cover, in order (an omitted range covers data.from to seq). */
export function coveredSeqs(entries: readonly RoomStreamEvent[]): number[] {
  return entries.flatMap((entry) =>
    Array.from({ length: entry.seq - firstSeq(entry) + 1 }, (_, i) => firstSeq(entry) + i),
  );
}

/** Waits the `retryAfterMs` an `unavailable` answer names (a second when it names none). */
export function waitAsHinted(error: ErrorBody): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, retryAfterMs(error) ?? 1_000));
}

/** Waits until `check` returns true (polling), or fails after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
