import { cpSync, existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
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
 * PGlite is one PostgreSQL session: it runs one query at a time for every connection, so a
 * transaction opened on one connection would see another connection's statements. Callers must
 * use a single connection at a time (the app's pool is sized 1 in embedded mode); the socket server
 * still accepts a few connections so that `psql` can look in while the app runs.
 */
export const EMBEDDED_MAX_CONNECTIONS = 4;

/**
 * A migrated, empty PGlite data folder made by `npm run build` next to the compiled server
 * (`dist/server/embedded-template`). Copying it is how a fresh DATA_DIR skips initdb, the slowest
 * part of a first start. Under tsx this path does not exist and a fresh folder runs initdb.
 */
export const EMBEDDED_TEMPLATE_DIR = fileURLToPath(new URL("./embedded-template", import.meta.url));

async function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * Starts PGlite with its data in `<dataDir>/pglite` and serves it on 127.0.0.1 (port 0 picks one).
 * A folder without a database is first filled from `options.template` when that exists (a
 * synchronous copy: nothing else runs yet at start-up, and it is several times faster than the
 * asynchronous one for a thousand small files).
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  options: { port?: number; template?: string } = {},
): Promise<EmbeddedPostgres> {
  const folder = resolve(dataDir, "pglite");
  const fresh = !existsSync(join(folder, "PG_VERSION"));
  if (fresh && options.template && existsSync(join(options.template, "PG_VERSION"))) {
    await rm(folder, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true });
    cpSync(options.template, folder, { recursive: true });
  } else {
    await mkdir(folder, { recursive: true });
  }
  const db = await PGlite.create(folder, {
    // PGlite's default 128 MB of shared buffers are set up on every start; a seminar's data is far
    // smaller, and 32 MB opens about 10 % faster (docs/benchmarks.md, Start-up).
    startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=32MB"],
  });
  const host = "127.0.0.1";
  const listenPort = options.port ?? (await freePort(host));
  const server = new PGLiteSocketServer({
    db,
    host,
    port: listenPort,
    maxConnections: EMBEDDED_MAX_CONNECTIONS,
  });
  await server.start();
  return {
    url: `postgresql://postgres@${host}:${listenPort}/postgres?sslmode=disable`,
    dataDir: folder,
    async stop() {
      await server.stop();
      await db.close();
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
