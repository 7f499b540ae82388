import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createApplication } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { createPrismaClient } from "./db/client.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./db/embedded.ts";
import { migrate } from "./db/migrator.ts";
import { seedDemo } from "./db/seed.ts";
import { createLogger } from "./logger.ts";

/** Starts the server: configuration, database (embedded unless DATABASE_URL), migrations, seed, listen. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`stepstone: invalid configuration: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config);
  await mkdir(config.dataDir, { recursive: true });

  let embedded: EmbeddedPostgres | undefined;
  if (!config.databaseUrl) {
    logger.info({ dataDir: config.dataDir }, "no DATABASE_URL: starting the embedded PostgreSQL");
    embedded = await startEmbeddedPostgres(config.dataDir);
  }
  const databaseUrl = config.databaseUrl ?? embedded!.url;
  const report = await migrate(databaseUrl, { log: (line) => logger.info(line) });
  logger.info(
    { applied: report.applied.length, total: report.applied.length + report.alreadyApplied.length },
    "migrations",
  );

  const prisma = createPrismaClient(databaseUrl, { maxConnections: embedded ? 1 : config.databasePoolSize });
  const application = createApplication({ config, prisma, logger });

  await new Promise<void>((resolve) => application.httpServer.listen(config.port, config.host, resolve));
  const { port } = application.httpServer.address() as AddressInfo;
  application.setPublicUrl(`http://localhost:${port}`);
  const url = application.context.publicUrl();
  logger.info({ url, database: embedded ? "embedded" : "external" }, "listening");

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

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: draining connections");
    const force = setTimeout(() => {
      logger.error("shutdown took longer than 10 s; exiting");
      process.exit(1);
    }, 10_000);
    force.unref();
    try {
      await application.close();
      await prisma.$disconnect();
      await embedded?.stop();
      logger.info("stopped");
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  console.error(`stepstone: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
