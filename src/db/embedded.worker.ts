/**
 * The embedded PostgreSQL's thread (started by startEmbeddedPostgres in embedded.ts): opens PGlite
 * on the data folder it is given, serves it over the PostgreSQL wire protocol on the host and port
 * it is given, says `ready`, and closes the server and the database when told `stop`. Built as its own
 * entry point (dist/server/embedded.worker.js) for the compiled server; from the sources,
 * embedded.worker.mjs loads this file through tsx.
 */
import { cpSync, existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
// Types only: embedded.ts (and the migrator it imports) is not loaded on this thread.
import type { EmbeddedWorkerCommand, EmbeddedWorkerInput, EmbeddedWorkerMessage } from "./embedded.ts";

/**
 * PGlite is one PostgreSQL session: it runs one query at a time for every connection, so a
 * transaction opened on one connection would see another connection's statements. Callers must
 * use a single connection at a time (the app's pool is sized 1 in embedded mode); the socket server
 * still accepts a few connections so that `psql` can look in while the app runs.
 */
const EMBEDDED_MAX_CONNECTIONS = 4;

/**
 * Opens the database and its server. A folder without a database is first filled from the
 * template when that exists (a synchronous copy: nothing else runs on this thread, and it is
 * several times faster than the asynchronous one for a thousand small files).
 */
async function serve({ dataDir, host, port, template }: EmbeddedWorkerInput) {
  const folder = resolve(dataDir, "pglite");
  const fresh = !existsSync(join(folder, "PG_VERSION"));
  if (fresh && template && existsSync(join(template, "PG_VERSION"))) {
    await rm(folder, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true });
    cpSync(template, folder, { recursive: true });
  } else {
    await mkdir(folder, { recursive: true });
  }
  const db = await PGlite.create(folder, {
    // PGlite's default 128 MB of shared buffers are set up on every start; a seminar's data is far
    // smaller, and 32 MB opens about 10 % faster (docs/benchmarks.md, Start-up).
    startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=32MB"],
  });
  const server = new PGLiteSocketServer({ db, host, port, maxConnections: EMBEDDED_MAX_CONNECTIONS });
  await server.start();
  return {
    folder,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/** How long `stop` may take before the thread is ended anyway (ms). */
const STOP_TIMEOUT_MS = 5_000;

const port = parentPort;
if (!port) throw new Error("embedded.worker.ts runs as a worker thread (see startEmbeddedPostgres)");
const say = (message: EmbeddedWorkerMessage) => port.postMessage(message);
try {
  const running = await serve(workerData as EmbeddedWorkerInput);
  port.on("message", (command: EmbeddedWorkerCommand) => {
    if (command.type !== "stop") return;
    const deadline = setTimeout(() => process.exit(0), STOP_TIMEOUT_MS);
    deadline.unref();
    void running
      .stop()
      .catch((error: unknown) => console.error(`embedded PostgreSQL: stopping failed: ${String(error)}`))
      .finally(() => {
        say({ type: "stopped" });
        port.close();
      });
  });
  say({ type: "ready", dataDir: running.folder });
} catch (error) {
  say({ type: "error", message: error instanceof Error ? error.message : String(error) });
  port.close();
}
