import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

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

/** Starts PGlite with its data in `<dataDir>/pglite` and serves it on 127.0.0.1 (port 0 picks one). */
export async function startEmbeddedPostgres(dataDir: string, port?: number): Promise<EmbeddedPostgres> {
  const folder = resolve(dataDir, "pglite");
  await mkdir(folder, { recursive: true });
  const db = await PGlite.create(folder);
  const host = "127.0.0.1";
  const listenPort = port ?? (await freePort(host));
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
