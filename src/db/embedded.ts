import { rename, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { migrate } from "./migrator.ts";

/** An embedded PostgreSQL (PGlite) served over the wire protocol on a local port. */
export interface EmbeddedPostgres {
  /** A postgres:// URL that `pg`, the Prisma adapter and `psql` can use. */
  url: string;
  /** Where the data lives. */
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * A migrated, empty PGlite data folder made by `npm run build` next to the compiled server
 * (`dist/server/embedded-template`). Copying it is how a fresh DATA_DIR skips initdb, the slowest
 * part of a first start. Under tsx this path does not exist and a fresh folder runs initdb.
 */
export const EMBEDDED_TEMPLATE_DIR = fileURLToPath(new URL("./embedded-template", import.meta.url));

/** Where the embedded database listens. */
export const EMBEDDED_HOST = "127.0.0.1";

/** A free TCP port on 127.0.0.1, for the embedded database (its URL is then known before it listens). */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, EMBEDDED_HOST, () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** The URL of the embedded database served on `port` (what `pg`, Prisma and `psql` use). */
export function embeddedUrl(port: number): string {
  return `postgresql://postgres@${EMBEDDED_HOST}:${port}/postgres?sslmode=disable`;
}

/** What the database thread is started with (embedded.worker.ts). */
export interface EmbeddedWorkerInput {
  dataDir: string;
  host: string;
  port: number;
  template: string | undefined;
}

/** What the database thread says: it serves (in its data folder), or it could not start. */
export type EmbeddedWorkerMessage =
  | { type: "ready"; dataDir: string }
  | { type: "error"; message: string }
  | { type: "stopped" };

/** What the database thread is told. */
export type EmbeddedWorkerCommand = { type: "stop" };

/**
 * Starts PGlite with its data in `<dataDir>/pglite` and serves it on 127.0.0.1 (port 0 picks one),
 * on a thread of its own (embedded.worker.ts): PostgreSQL compiled to WebAssembly runs every query
 * on the thread that holds it, so there it neither holds up the event loop that serves the rooms nor
 * waits for it, and its start (a second or two of CPU) runs beside the loading of the server's
 * code. A folder without a database is first filled from `options.template` when that exists.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  options: { port?: number; template?: string } = {},
): Promise<EmbeddedPostgres> {
  const port = options.port || (await freeLocalPort());
  const input: EmbeddedWorkerInput = { dataDir, host: EMBEDDED_HOST, port, template: options.template };
  // From the sources (a .ts module) the thread goes through tsx; the compiled server has the
  // thread's code bundled beside it (scripts/build.mjs entry point embedded.worker).
  const entry = new URL(
    import.meta.url.endsWith(".ts") ? "./embedded.worker.mjs" : "./embedded.worker.js",
    import.meta.url,
  );
  const worker = new Worker(entry, { workerData: input });
  const exited = new Promise<void>((resolveExit) => worker.once("exit", () => resolveExit()));
  const ready = await new Promise<Extract<EmbeddedWorkerMessage, { type: "ready" }>>(
    (resolveReady, reject) => {
      worker.on("message", (message: EmbeddedWorkerMessage) => {
        if (message.type === "ready") resolveReady(message);
        else if (message.type === "error") reject(new Error(`embedded PostgreSQL: ${message.message}`));
      });
      worker.on("error", (error) => reject(error));
      void exited.then(() =>
        reject(new Error("embedded PostgreSQL: the database thread exited while starting")),
      );
    },
  );
  // Past start-up the thread's errors are its own to report (it logs and stops); an 'error' event
  // without a listener would end the whole process.
  worker.on("error", (error) => console.error(`embedded PostgreSQL: ${error.message}`));
  return {
    url: embeddedUrl(port),
    dataDir: ready.dataDir,
    async stop() {
      if (worker.threadId < 0) return;
      worker.postMessage({ type: "stop" } satisfies EmbeddedWorkerCommand);
      await exited;
    },
  };
}

/**
 * Writes the embedded database template: a new PGlite data folder with every migration applied
 * (through the same migrator, so `_prisma_migrations` is exactly what a normal start writes).
 * Built in `<target>.tmp` and renamed, so a reader never sees half a template.
 */
export async function writeEmbeddedTemplate(target: string): Promise<void> {
  const scratch = `${target}.tmp-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  const embedded = await startEmbeddedPostgres(scratch);
  try {
    await migrate(embedded.url);
  } finally {
    await embedded.stop();
  }
  await rm(target, { recursive: true, force: true });
  await rename(join(scratch, "pglite"), target);
  await rm(scratch, { recursive: true, force: true });
}
