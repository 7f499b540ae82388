import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

/** Where the migrations live: Prisma Migrate's own layout. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

/**
 * The advisory lock key Prisma Migrate takes, so that this migrator and `prisma migrate deploy`
 * exclude each other as well as other nodes starting at the same time.
 */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

/** The bookkeeping table exactly as Prisma Migrate creates it. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** A migration found on disk. */
export interface LocalMigration {
  name: string;
  sql: string;
  /** SHA-256 of the file, hex: what Prisma stores in `_prisma_migrations.checksum`. */
  checksum: string;
}

/** What a run did. */
export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
}

/** The migrator refuses to go on; the message says why and what to do. */
export class MigrationError extends Error {
  override name = "MigrationError";
}

/** Reads `<dir>/<name>/migration.sql` for every migration folder, in name (timestamp) order. */
export async function readMigrations(dir = MIGRATIONS_DIR): Promise<LocalMigration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies pending migrations to the database at `databaseUrl`, keeping `_prisma_migrations` as
 * Prisma Migrate does, so `prisma migrate deploy` can take over (and the other way round).
 *
 * - Holds Prisma's advisory lock for the whole run: concurrent runs wait, then find nothing to do.
 * - Runs each migration and its bookkeeping row in one transaction: a failing migration leaves no
 *   trace and the error names it.
 * - Refuses to continue when an applied migration's file has changed, or when the database has a
 *   failed migration Prisma recorded (resolve it with `prisma migrate resolve`).
 */
export async function migrate(
  databaseUrl: string,
  options: { dir?: string; log?: (line: string) => void } = {},
): Promise<MigrationReport> {
  const log = options.log ?? (() => {});
  const local = await readMigrations(options.dir);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [PRISMA_ADVISORY_LOCK_KEY]);
    try {
      return await applyPending(client, local, log);
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_ADVISORY_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

async function applyPending(
  client: pg.Client,
  local: LocalMigration[],
  log: (line: string) => void,
): Promise<MigrationReport> {
  await client.query(CREATE_MIGRATIONS_TABLE);
  const { rows } = await client.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`,
  );
  const failed = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed) {
    throw new MigrationError(
      `Migration ${failed.migration_name} failed earlier and is not resolved. Fix the database, then run ` +
        `\`prisma migrate resolve --applied ${failed.migration_name}\` or \`--rolled-back\`.`,
    );
  }
  const applied = new Map(
    rows
      .filter((row) => row.finished_at !== null && row.rolled_back_at === null)
      .map((row) => [row.migration_name, row]),
  );
  for (const name of applied.keys()) {
    if (!local.some((migration) => migration.name === name)) {
      log(`warning: migration ${name} is applied in the database but missing from prisma/migrations`);
    }
  }

  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  for (const migration of local) {
    const row = applied.get(migration.name);
    if (row) {
      if (row.checksum !== migration.checksum) {
        throw new MigrationError(
          `Migration ${migration.name} was modified after it was applied (checksum ${row.checksum.slice(0, 12)}… ` +
            `in the database, ${migration.checksum.slice(0, 12)}… on disk). Restore the file and add a new migration instead.`,
        );
      }
      report.alreadyApplied.push(migration.name);
      continue;
    }
    await applyOne(client, migration);
    log(`applied ${migration.name}`);
    report.applied.push(migration.name);
  }
  return report;
}

async function applyOne(client: pg.Client, migration: LocalMigration): Promise<void> {
  const id = randomUUID();
  await client.query("BEGIN");
  try {
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, clock_timestamp(), 0)`,
      [id, migration.checksum, migration.name],
    );
    await client.query(migration.sql);
    await client.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
      [id],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    const message = (error as Error).message;
    // A file with its own BEGIN/COMMIT (Prisma writes these when it recreates an enum) commits our
    // transaction part-way: what ran before its COMMIT stays, and so does the row marking it started.
    // Leave it as Prisma would (failed, with the error in `logs`) and say so.
    const left = await client.query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, message]);
    if (left.rowCount) {
      throw new MigrationError(
        `Migration ${migration.name} failed part-way and could not be rolled back, because the file commits ` +
          `on its own (BEGIN/COMMIT): ${message}. Repair the database, then run ` +
          `\`prisma migrate resolve --applied ${migration.name}\` or \`--rolled-back\`.`,
      );
    }
    throw new MigrationError(`Migration ${migration.name} failed and was rolled back: ${message}`);
  }
}
