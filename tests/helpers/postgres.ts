import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * The PostgreSQL server the tests run on: DATABASE_URL when set, else the local default.
 * Only the server is taken from it; every test file gets a database of its own.
 */
export const SERVER_URL =
  process.env.TEST_DATABASE_URL ??
  process.env.DATABASE_URL ??
  "postgresql://postgres@127.0.0.1:5432/postgres";

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs statements on the server's maintenance database. */
export async function withAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A unique, valid database name with a recognisable prefix (cleaned up by the global teardown). */
export function uniqueDatabaseName(kind: string): string {
  return `stepstone_${kind}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/** Drops a database, ending whatever sessions are still connected to it. */
export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
