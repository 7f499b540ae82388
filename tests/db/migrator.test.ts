import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { appendFile, cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrationList, SCHEMA_PATH, withSchemaEngine } from "../../scripts/schema-engine.ts";
import { MIGRATIONS_DIR, MigrationError, migrate, readMigrations } from "../../src/db/migrator.ts";
import { describeCatalog } from "../helpers/catalog.ts";
import { useEmptyDatabase } from "../helpers/database.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const local = await readMigrations();
const names = local.map((migration) => migration.name);

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

const migrationRows = (url: string): Promise<MigrationRow[]> =>
  query<MigrationRow>(url, `SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name`);

const tableExists = async (url: string, table: string): Promise<boolean> =>
  (await query<{ found: string | null }>(url, "SELECT to_regclass($1)::text AS found", [table]))[0]?.found !=
  null;

const temporaryDirs: string[] = [];
afterAll(async () => {
  for (const dir of temporaryDirs) await rm(dir, { recursive: true, force: true });
});

/** A copy of prisma/migrations in a temporary folder (removed after the file), to edit freely. */
async function copyOfMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "stepstone-migrations-"));
  temporaryDirs.push(dir);
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function addMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(join(dir, name));
  await writeFile(join(dir, name, "migration.sql"), sql);
}

/** `_prisma_migrations` as the catalogs describe it: columns in order, with types, and the primary key. */
async function bookkeepingTable(url: string): Promise<unknown> {
  return {
    columns: await query(
      url,
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS "notNull",
              pg_get_expr(d.adbin, d.adrelid) AS default
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = '"_prisma_migrations"'::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
    ),
    primaryKey: await query(
      url,
      `SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint
        WHERE conrelid = '"_prisma_migrations"'::regclass AND contype = 'p'`,
    ),
  };
}

// Test files get their databases up front (useEmptyDatabase drops them after the file).
const empty = useEmptyDatabase;
const [twice, concurrent, edited, ours, prismas, broken, failed, selfCommitting, cli] = await Promise.all([
  empty(),
  empty(),
  empty(),
  empty(),
  empty(),
  empty(),
  empty(),
  empty(),
  empty(),
]);

describe("migrate()", () => {
  it("has migrations to test with", () => {
    expect(names.length).toBeGreaterThan(0);
  });

  it("applies everything once, and nothing the second time, leaving the bookkeeping untouched", async () => {
    const first = await migrate(twice.url);
    expect(first).toEqual({ applied: names, alreadyApplied: [] });
    const rows = await migrationRows(twice.url);
    expect(rows.map((row) => row.migration_name)).toEqual(names);

    const second = await migrate(twice.url);
    expect(second).toEqual({ applied: [], alreadyApplied: names });
    expect(await migrationRows(twice.url)).toEqual(rows);
  });

  it("applies every migration exactly once when five runs start at the same time", async () => {
    const reports = await Promise.all(Array.from({ length: 5 }, () => migrate(concurrent.url)));
    for (const name of names) {
      expect(
        reports.filter((report) => report.applied.includes(name)),
        name,
      ).toHaveLength(1);
      expect(
        reports.filter((report) => report.alreadyApplied.includes(name)),
        name,
      ).toHaveLength(4);
    }
    const rows = await migrationRows(concurrent.url);
    expect(rows.map((row) => row.migration_name).sort()).toEqual([...names].sort());
    expect(rows.every((row) => row.finished_at !== null)).toBe(true);
  });

  it("refuses an applied migration whose file was edited, naming it, and changes nothing", async () => {
    const dir = await copyOfMigrations();
    await migrate(edited.url, { dir });
    const rowsBefore = await migrationRows(edited.url);
    const catalogBefore = await describeCatalog(edited.url);

    const [first] = names;
    await appendFile(join(dir, first!, "migration.sql"), "\n-- an afterthought\n");
    await addMigration(dir, "29991231000000_pending", `CREATE TABLE "pending" ("id" INTEGER);\n`);

    const error = await migrate(edited.url, { dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).message).toContain(first);
    expect((error as MigrationError).message).toMatch(/modified after it was applied/);
    expect(await migrationRows(edited.url)).toEqual(rowsBefore);
    expect(await describeCatalog(edited.url)).toEqual(catalogBefore);
    expect(await tableExists(edited.url, "pending")).toBe(false);
  });

  it("keeps _prisma_migrations exactly as Prisma Migrate does", async () => {
    await migrate(ours.url);

    // The table: the same columns, types, defaults and key as the one Prisma's schema engine creates.
    const schema = readFileSync(SCHEMA_PATH, "utf8");
    const migrationsList = await migrationList();
    const filters = { externalTables: [], externalEnums: [] };
    const applied = await withSchemaEngine(
      schema,
      (engine) => engine.applyMigrations({ migrationsList, filters }),
      prismas.url,
    );
    expect(applied.appliedMigrationNames).toEqual(names);
    expect(await bookkeepingTable(ours.url)).toEqual(await bookkeepingTable(prismas.url));
    expect(await describeCatalog(ours.url)).toEqual(await describeCatalog(prismas.url));
    expect((await bookkeepingTable(ours.url)) as object).toMatchObject({
      columns: [
        { name: "id", type: "character varying(36)", notNull: true, default: null },
        { name: "checksum", type: "character varying(64)", notNull: true, default: null },
        { name: "finished_at", type: "timestamp with time zone", notNull: false, default: null },
        { name: "migration_name", type: "character varying(255)", notNull: true, default: null },
        { name: "logs", type: "text", notNull: false, default: null },
        { name: "rolled_back_at", type: "timestamp with time zone", notNull: false, default: null },
        { name: "started_at", type: "timestamp with time zone", notNull: true, default: "now()" },
        { name: "applied_steps_count", type: "integer", notNull: true, default: "0" },
      ],
    });

    // The rows: what Prisma writes for a successful migration.
    const rows = await migrationRows(ours.url);
    const prismaRows = await migrationRows(prismas.url);
    expect(rows).toHaveLength(names.length);
    for (const [index, row] of rows.entries()) {
      const file = readFileSync(join(MIGRATIONS_DIR, names[index]!, "migration.sql"));
      expect(row.migration_name).toBe(names[index]);
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.checksum).toBe(createHash("sha256").update(file).digest("hex"));
      expect(row.checksum).toBe(prismaRows[index]?.checksum);
      expect(row.finished_at).not.toBeNull();
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.logs).toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }

    // Each side accepts the other's bookkeeping: `prisma migrate deploy` finds nothing to do on a
    // database we migrated, and we find nothing to do on one Prisma migrated.
    const diagnosis = await withSchemaEngine(
      schema,
      (engine) => engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters }),
      ours.url,
    );
    expect(diagnosis).toEqual({
      editedMigrationNames: [],
      failedMigrationNames: [],
      hasMigrationsTable: true,
      history: null,
    });
    const deploy = await withSchemaEngine(
      schema,
      (engine) => engine.applyMigrations({ migrationsList, filters }),
      ours.url,
    );
    expect(deploy.appliedMigrationNames).toEqual([]);
    expect(await migrate(prismas.url)).toEqual({ applied: [], alreadyApplied: names });
  });

  it("rolls a failing migration back entirely and names it", async () => {
    const dir = await copyOfMigrations();
    await addMigration(
      dir,
      "29991231000000_broken",
      `CREATE TABLE "partial" ("id" INTEGER);\nCREATE TABLE "broken" ("x" INTEGER, "x" INTEGER);\n`,
    );
    const error = await migrate(broken.url, { dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).message).toMatch(
      /Migration 29991231000000_broken failed and was rolled back: column "x" specified more than once/,
    );
    // The migrations before it stay applied; of the broken one there is no trace.
    expect((await migrationRows(broken.url)).map((row) => row.migration_name)).toEqual(names);
    expect(await tableExists(broken.url, "partial")).toBe(false);
    expect(await tableExists(broken.url, "broken")).toBe(false);
  });

  it("refuses a database with a failed, unresolved migration and points at prisma migrate resolve", async () => {
    await migrate(failed.url);
    const rowsBefore = await query(
      failed.url,
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count)
       VALUES (gen_random_uuid(), repeat('0', 64), '29991231000000_failed', 'boom', now(), 0) RETURNING *`,
    ).then(() => migrationRows(failed.url));

    const error = await migrate(failed.url).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).message).toContain("29991231000000_failed");
    expect((error as MigrationError).message).toContain("prisma migrate resolve");
    expect(await migrationRows(failed.url)).toEqual(rowsBefore);
  });

  it("says so when a failing migration that commits on its own cannot be rolled back", async () => {
    // Prisma writes BEGIN/COMMIT into a migration when it recreates an enum; such a file ends the
    // migrator's transaction early, so what ran before its COMMIT stays.
    const dir = await copyOfMigrations();
    await addMigration(
      dir,
      "29991231000000_self_committing",
      `BEGIN;\nCREATE TABLE "kept" ("id" INTEGER);\nCOMMIT;\nCREATE TABLE "broken" ("x" INTEGER, "x" INTEGER);\n`,
    );
    const error = await migrate(selfCommitting.url, { dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).message).toMatch(/29991231000000_self_committing failed part-way/);
    expect((error as MigrationError).message).toContain("prisma migrate resolve");
    expect(await tableExists(selfCommitting.url, "kept")).toBe(true);
    // Left as Prisma leaves a failed migration: started, not finished, the error in `logs`.
    const row = (await migrationRows(selfCommitting.url)).find(
      (candidate) => candidate.migration_name === "29991231000000_self_committing",
    );
    expect(row).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0 });
    expect(row?.logs).toMatch(/specified more than once/);
    await expect(migrate(selfCommitting.url, { dir })).rejects.toThrow(/failed earlier and is not resolved/);
  });
});

describe("npm run db:migrate", () => {
  const run = promisify(execFile);
  const migrateCli = () =>
    run("npx", ["tsx", "src/db/migrate.cli.ts"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: cli.url, NODE_ENV: "test" },
    });

  it("applies the migrations to DATABASE_URL, then reports it up to date", async () => {
    const first = await migrateCli();
    expect(first.stdout).toContain(`Applied ${names.length} migration(s)`);
    const second = await migrateCli();
    expect(second.stdout).toContain("up to date");
    expect((await migrationRows(cli.url)).map((row) => row.migration_name)).toEqual(names);
  });
});
