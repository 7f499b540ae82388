import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import type { Application } from "./app.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import type { PrismaClient } from "./db/client.ts";
import type { EmbeddedPostgres } from "./db/embedded.ts";
import { migrate } from "./db/migrator.ts";
import { createLogger, type Logger } from "./logger.ts";

/**
 * The longest a shutdown may take, from the signal to the exit: below the 10 s a container
 * manager usually grants before SIGKILL. Past it the process exits with code 1.
 */
const SHUTDOWN_DEADLINE_MS = 8_000;
/** What the deadline keeps back, after HTTP requests, for closing sockets and the database. */
const CLOSING_RESERVE_MS = 2_000;

/**
 * How much a WebAssembly function runs before V8 recompiles it with its optimizing compiler: ten
 * times V8's default (1,800,000). A start runs a great deal of WebAssembly once (Prisma's query
 * compiler for the first queries; PGlite's PostgreSQL opening its data folder), and with the
 * default budget V8 spends 0.6-2 s of CPU on other threads optimizing code that will not run
 * again, on a machine with two cores half of it. Code that stays hot (PGlite's executor) still
 * gets optimized, a little later; Prisma caches query plans, so its compiler is not on the hot
 * path. docs/benchmarks.md, Start-up.
 */
const WASM_TIERING_BUDGET = 18_000_000;

/** What a running server holds; each part is set once it has started, so a shutdown closes what exists. */
interface Running {
  embedded?: EmbeddedPostgres;
  prisma?: PrismaClient;
  application?: Application;
  metricsServer?: Server;
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`stepstone: invalid configuration: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

async function listen(server: Server, port: number, host: string, backlog: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, backlog }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * The application's code: Express, Socket.IO, Prisma's client and every module; with REDIS_URL
 * also the Redis client and the Socket.IO adapter (without it they are never loaded).
 */
function loadApplicationCode(config: Config) {
  return Promise.all([
    import("./app.ts"),
    import("./db/client.ts"),
    import("./db/seed.ts"),
    import("./http/metrics.ts"),
    config.redisUrl ? import("./redis.ts").then((redis) => redis.loadRedisModules()) : undefined,
  ]).then(([app, client, seed, metrics]) => ({
    createApplication: app.createApplication,
    createPrismaClient: client.createPrismaClient,
    seedDemo: seed.seedDemo,
    createMetricsServer: metrics.createMetricsServer,
  }));
}

/**
 * Database (embedded unless DATABASE_URL), migrations, application, listening, demo seed.
 * The embedded database starts first, on a thread of its own and on a port chosen here (so its URL
 * is known at once), and the application's code loads on this thread meanwhile; then Prisma's
 * query engine (WebAssembly, which needs no connection to get ready) is made ready while the
 * database finishes starting and the migrations run. On two cores these overlap. PGlite is not
 * loaded at all with DATABASE_URL.
 */
async function start(config: Config, logger: Logger, running: Running): Promise<void> {
  await mkdir(config.dataDir, { recursive: true });
  let embedded: Promise<EmbeddedPostgres> | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    logger.info({ dataDir: config.dataDir }, "no DATABASE_URL: starting the embedded PostgreSQL");
    const database = await import("./db/embedded.ts");
    const port = await database.freeLocalPort();
    databaseUrl = database.embeddedUrl(port);
    embedded = database.startEmbeddedPostgres(config.dataDir, {
      template: database.EMBEDDED_TEMPLATE_DIR,
      port,
    });
  }
  const dbUrl = databaseUrl;
  const code = loadApplicationCode(config);
  const prismaReady = code.then(async ({ createPrismaClient }) => {
    running.prisma = createPrismaClient(dbUrl, {
      maxConnections: embedded ? 1 : config.databasePoolSize,
      statementTimeoutMs: config.databaseTimeouts.statementMs,
      idleInTransactionTimeoutMs: config.databaseTimeouts.idleInTransactionMs,
    });
    await running.prisma.$connect();
    return running.prisma;
  });
  // Awaited below; a failure meanwhile is reported there, not as an unhandled rejection.
  prismaReady.catch(() => undefined);
  if (embedded) running.embedded = await embedded;
  const report = await migrate(dbUrl, { log: (line) => logger.info(line) });
  logger.info(
    { applied: report.applied.length, total: report.applied.length + report.alreadyApplied.length },
    "migrations",
  );

  const prisma = await prismaReady;
  const { createApplication, seedDemo, createMetricsServer } = await code;
  const application = await createApplication({
    config,
    prisma,
    logger,
    // Export threads need connections of their own; the embedded database serves one session.
    databaseUrl: running.embedded ? undefined : dbUrl,
  });
  running.application = application;

  const port = await listen(application.httpServer, config.port, config.host, config.listenBacklog);
  application.setPublicUrl(`http://localhost:${port}`);
  const url = application.context.publicUrl();
  logger.info({ url, port, database: running.embedded ? "embedded" : "external" }, "listening");

  if (config.metricsPort !== undefined) {
    running.metricsServer = createMetricsServer(application.context);
    const metricsPort = await listen(
      running.metricsServer,
      config.metricsPort,
      config.host,
      config.listenBacklog,
    );
    logger.info({ metricsPort }, "metrics listening");
  } else if (config.metricsToken === undefined) {
    logger.info("metrics are off: set METRICS_PORT or METRICS_TOKEN to serve them");
  }

  if (config.seedDemo) {
    const demo = await seedDemo(application);
    console.log(
      [
        "",
        `  Stepstone is running at ${url}`,
        `  Demo seminar ${demo.seminarId} is live with a prompt open.`,
        `  Join it: open ${demo.joinUrl}  (join code ${demo.joinCode})`,
        `  Demo moderator: ${demo.email} / ${demo.password}`,
        "  Next: join as a guest from the command line and read the room:",
        `    curl -s ${url}/api/seminars/join -H 'content-type: application/json' -d '{"code":"${demo.joinCode}","displayName":"Ada"}'`,
        `    curl -s ${url}/api/seminars/${demo.seminarId} -H 'authorization: Bearer <token from the answer>'`,
        "",
      ].join("\n"),
    );
  }
}

/**
 * Stops the node in the order a rolling restart needs:
 * 1. /readyz answers 503; after SIGTERM the node goes on serving for the drain window, so the load
 *    balancer notices and sends new work elsewhere (SIGINT, a person at a terminal, skips it);
 * 2. no new HTTP connections; the requests in flight are answered;
 * 3. the application closes: sockets are told why and disconnected, commands in flight finish;
 * 4. the database closes last.
 */
async function shutDown(signal: string, config: Config, logger: Logger, running: Running): Promise<void> {
  const deadline = Date.now() + SHUTDOWN_DEADLINE_MS;
  const { application } = running;
  if (application) {
    application.beginShutdown();
    if (signal === "SIGTERM" && application.httpServer.listening && config.shutdownDrainMs > 0) {
      logger.info({ signal, drainMs: config.shutdownDrainMs }, "shutting down: draining (/readyz is 503)");
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs));
    } else {
      logger.info({ signal }, "shutting down");
    }
    const unanswered = await application.finishRequests(
      Math.max(0, deadline - CLOSING_RESERVE_MS - Date.now()),
    );
    if (unanswered > 0) logger.warn({ unanswered }, "HTTP requests still running at shutdown");
    await application.close();
  }
  if (running.metricsServer?.listening) {
    const metricsServer = running.metricsServer;
    await new Promise((resolve) => metricsServer.close(resolve));
    metricsServer.closeAllConnections();
  }
  await running.prisma?.$disconnect();
  await running.embedded?.stop();
  logger.info("stopped");
}

/** Starts the server and stops it cleanly on SIGTERM or SIGINT (see shutDown). */
function main(): void {
  // Before any WebAssembly is compiled (PGlite and Prisma's client load later, on demand).
  setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);
  const config = readConfig();
  const logger = createLogger(config);
  const running: Running = {};
  const starting = start(config, logger, running);

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // npm passes a terminal's Ctrl-C on as well, so the same signal may come twice.
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    force.unref();
    // A signal during start-up waits for it to finish, so nothing is torn down half-built.
    starting
      .catch(() => undefined)
      .then(() => shutDown(signal, config, logger, running))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));

  starting.catch((error: unknown) => {
    console.error(`stepstone: failed to start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}

main();
