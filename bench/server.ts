/**
 * The server under test, run as a child process of bench/run.ts so that it can be pinned to a
 * core of its own and measured on its own: `app` builds the real application (createApplication,
 * configured from the environment the orchestrator passes: its own database, LOG_LEVEL=warn, long
 * token lifetimes, a high join limit, and REDIS_URL when it is one of several nodes); `relay`
 * starts the bare Socket.IO relay (bench/relay.ts), joined to the other relay nodes through the
 * same Redis when REDIS_URL is set.
 * It listens on a free port, says so over IPC, and answers stats, gc and stop requests.
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { Session } from "node:inspector/promises";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createApplication } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { createPrismaClient } from "../src/db/client.ts";
import { createLogger } from "../src/logger.ts";
import { connectRedis } from "../src/redis.ts";
import type { ServerCommand, ServerMessage } from "./messages.ts";
import { createRelay } from "./relay.ts";

function reply(message: ServerMessage): void {
  process.send?.(message);
}

async function start(
  mode: string,
): Promise<{ port: number; sockets: () => number; close: () => Promise<void> }> {
  if (mode === "relay") {
    const httpServer = createServer();
    // Several relay nodes share a Redis as the application's nodes do (REDIS_URL, REDIS_PREFIX).
    const config = loadConfig(process.env);
    const redis = config.redisUrl ? await connectRedis(config.redisUrl, createLogger(config)) : undefined;
    const relay = createRelay(httpServer, { redis, prefix: config.redisPrefix });
    // The same listen backlog as the application (config LISTEN_BACKLOG).
    await new Promise<void>((resolve) =>
      httpServer.listen({ port: 0, host: "127.0.0.1", backlog: config.listenBacklog }, resolve),
    );
    return {
      port: (httpServer.address() as AddressInfo).port,
      sockets: () => relay.io.engine.clientsCount,
      close: async () => {
        await relay.close();
      },
    };
  }
  const config = loadConfig(process.env);
  if (!config.databaseUrl) throw new Error("bench server: DATABASE_URL is required");
  const logger = createLogger(config);
  const prisma = createPrismaClient(config.databaseUrl, { maxConnections: config.databasePoolSize });
  const application = await createApplication({ config, prisma, logger, databaseUrl: config.databaseUrl });
  await new Promise<void>((resolve) =>
    application.httpServer.listen({ port: 0, host: "127.0.0.1", backlog: config.listenBacklog }, resolve),
  );
  const port = (application.httpServer.address() as AddressInfo).port;
  application.context.config.publicUrl = `http://127.0.0.1:${port}`;
  return {
    port,
    sockets: () => application.realtime.io.engine.clientsCount,
    close: async () => {
      await application.close();
      await prisma.$disconnect();
    },
  };
}

/** The event-loop sampling interval; the histogram's values include it, so it is subtracted. */
const LOOP_RESOLUTION_MS = 10;

/** A delay from the histogram (ns, interval included) as the wait beyond the interval (ms). */
function delayMs(nanoseconds: number): number {
  return Math.max(0, nanoseconds / 1e6 - LOOP_RESOLUTION_MS);
}

async function main(): Promise<void> {
  const mode = process.argv[2] ?? "app";
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  const server = await start(mode);
  // A CPU profile of a measured window only (not of start-up), through the inspector.
  let profiler: Session | undefined;

  process.on("message", (command: ServerCommand) => {
    if (command.type === "stats") {
      const memory = process.memoryUsage();
      reply({
        type: "stats",
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        loopDelay: {
          p50: delayMs(loopDelay.percentile(50)),
          p99: delayMs(loopDelay.percentile(99)),
          max: delayMs(loopDelay.max),
        },
        sockets: server.sockets(),
      });
      if (command.reset) loopDelay.reset();
    } else if (command.type === "gc") {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      reply({ type: "gcDone" });
    } else if (command.type === "profileStart") {
      profiler ??= new Session();
      profiler.connect();
      void profiler
        .post("Profiler.enable")
        .then(() => profiler?.post("Profiler.start"))
        .then(() => reply({ type: "profileStarted" }));
    } else if (command.type === "profileStop") {
      const session = profiler;
      profiler = undefined;
      void session?.post("Profiler.stop").then(({ profile }) => {
        writeFileSync(command.path, JSON.stringify(profile));
        session.disconnect();
        reply({ type: "profileWritten", path: command.path });
      });
    } else if (command.type === "stop") {
      const force = setTimeout(() => process.exit(0), 5_000);
      force.unref();
      server.close().finally(() => process.exit(0));
    }
  });
  process.on("disconnect", () => process.exit(0));
  reply({ type: "ready", port: server.port });
}

main().catch((error: unknown) => {
  reply({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
