/**
 * The bench's own PostgreSQL database: created fresh and migrated at the start of a run, dropped
 * at the end (also when the run fails). Taken from BENCH_DATABASE_URL or DATABASE_URL (only the
 * server part is used), else the local default.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrate } from "../src/db/migrator.ts";

/** The PostgreSQL server the bench runs on. */
export const SERVER_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.DATABASE_URL ??
  "postgresql://postgres@127.0.0.1:5432/postgres";

/** A database of the bench's own. */
export interface BenchDatabase {
  name: string;
  url: string;
  /** PostgreSQL's version string. */
  version: string;
  /** Pids of the backends connected to the bench database now. */
  backendPids(): Promise<number[]>;
  /** Drops the database (ending its sessions) and closes the admin connection. */
  drop(): Promise<void>;
}

/** Creates and migrates a fresh database named `stepstone_bench_<pid>_<random>`. */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const admin = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  const name = `stepstone_bench_${process.pid}_${randomBytes(3).toString("hex")}`;
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
    await migrate(url.toString());
  } catch (error) {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
    await admin.end();
    throw error;
  }
  const { rows } = await admin.query<{ server_version: string }>("SHOW server_version");
  let dropped = false;
  return {
    name,
    url: url.toString(),
    version: rows[0]?.server_version ?? "?",
    async backendPids() {
      if (dropped) return [];
      const result = await admin.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1",
        [name],
      );
      return result.rows.map((row) => row.pid);
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
