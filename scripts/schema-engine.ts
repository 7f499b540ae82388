/**
 * Prisma Migrate's SQL without Prisma's schema engine binary (which cannot be downloaded here), using
 * the WASM schema engine from `@prisma/schema-engine-wasm`.
 *
 *   tsx scripts/schema-engine.ts sql          prints the SQL that creates prisma/schema.prisma from nothing
 *   tsx scripts/schema-engine.ts new <name>   writes prisma/migrations/<timestamp>_<name>/migration.sql
 *
 * `new` first compares (through the PostgreSQL catalogs) a scratch database migrated with the existing
 * migrations against one built from the schema, then asks the engine for the migration between them
 * (it replays the migrations on a scratch shadow database), writes it and checks that it closes the gap.
 * Scratch databases are made on TEST_DATABASE_URL / DATABASE_URL's server (default: local PostgreSQL).
 */
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import type { DiffTarget, MigrationList, SchemaEngine } from "@prisma/schema-engine-wasm";
import pg from "pg";
import { MIGRATIONS_DIR, migrate, readMigrations } from "../src/db/migrator.ts";
import { type Catalog, describeCatalog, diffCatalogs } from "../tests/helpers/catalog.ts";
import {
  databaseUrl,
  dropDatabase,
  SERVER_URL,
  uniqueDatabaseName,
  withAdmin,
} from "../tests/helpers/postgres.ts";

/** prisma/schema.prisma. */
export const SCHEMA_PATH = fileURLToPath(new URL("../prisma/schema.prisma", import.meta.url));

type WasmModule = typeof import("@prisma/schema-engine-wasm/schema_engine_bg");

let wasmModule: Promise<WasmModule> | undefined;

/** Loads and starts the WASM schema engine once per process. */
function loadWasm(): Promise<WasmModule> {
  wasmModule ??= (async () => {
    const require = createRequire(import.meta.url);
    const bgPath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const bg: WasmModule = await import(pathToFileURL(bgPath).href);
    const bytes = readFileSync(join(dirname(bgPath), "schema_engine_bg.wasm"));
    const { instance } = await WebAssembly.instantiate(bytes, {
      "./schema_engine_bg.js": bg as unknown as WebAssembly.ModuleImports,
    });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as (() => void) | undefined)?.();
    return bg;
  })();
  return wasmModule;
}

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

interface PerformsIO {
  performIO(query: unknown): Promise<{ fields: { dataTypeID: number }[] }>;
  startTransaction?(...args: unknown[]): Promise<object>;
}

/**
 * Works around "Column type 'char' could not be deserialized" (a relative of prisma/prisma#27403):
 * @prisma/adapter-pg 7.10 cannot map PostgreSQL's one-byte `"char"` type, which the engine's introspection queries read
 * from pg_catalog (contype, confdeltype, …). Reporting those columns as text makes introspection work.
 * This reaches into the adapter's `performIO`, so it fails loudly if a new adapter version drops it.
 */
function readCharAsText<T extends object>(queryable: T): T {
  const target = queryable as unknown as PerformsIO;
  if (typeof target.performIO !== "function") {
    throw new Error(
      "@prisma/adapter-pg has no performIO any more: update readCharAsText in scripts/schema-engine.ts",
    );
  }
  const performIO = target.performIO.bind(queryable);
  target.performIO = async (query) => {
    const result = await performIO(query);
    for (const field of result.fields) if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
    return result;
  };
  if (typeof target.startTransaction === "function") {
    const startTransaction = target.startTransaction.bind(queryable);
    target.startTransaction = async (...args) => readCharAsText(await startTransaction(...args));
  }
  return queryable;
}

/**
 * @prisma/adapter-pg's `executeScript` splits a migration on every `;`, which breaks function bodies
 * (`$$ … ; … $$`). The native schema engine sends a migration as one script; so do we here, through
 * the simple query protocol, which runs several statements in one call.
 */
function executeScriptWhole(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const driver = (
    adapter as unknown as { underlyingDriver(): { query(sql: string): Promise<unknown> } }
  ).underlyingDriver();
  adapter.executeScript = async (script: string) => {
    await driver.query(script);
  };
  return adapter;
}

/**
 * Runs `use` with a fresh WASM schema engine for `schema`. Its main database is `url` (default: the
 * server's maintenance database, which a diff does not change); its shadow databases are scratch
 * databases of our own, because PrismaPg's `connectToShadowDb` keeps the connection string's database
 * and so would replay the migrations into the main database.
 */
export async function withSchemaEngine<T>(
  schema: string,
  use: (engine: SchemaEngine) => Promise<T>,
  url: string = SERVER_URL,
): Promise<T> {
  const bg = await loadWasm();
  const adapters: SqlDriverAdapter[] = [];
  const shadows: string[] = [];
  const connectTo = async (target: string): Promise<SqlDriverAdapter> => {
    const adapter = executeScriptWhole(
      readCharAsText(await new PrismaPg({ connectionString: target }).connect()),
    );
    adapters.push(adapter);
    return adapter;
  };
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: "postgres",
    adapterName: "@prisma/adapter-pg",
    connect: () => connectTo(url),
    connectToShadowDb: async () => {
      const name = uniqueDatabaseName("shadow");
      await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
      shadows.push(name);
      const adapter = await connectTo(databaseUrl(name));
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose().catch(() => {});
        await dropDatabase(name);
      };
      return adapter;
    },
  };
  const engine = await bg.SchemaEngine.new(
    { datamodels: [["schema.prisma", schema]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  try {
    return await use(engine);
  } finally {
    engine.free();
    for (const adapter of adapters) await adapter.dispose().catch(() => {});
    for (const name of shadows) await dropDatabase(name);
  }
}

/** Squeezes runs of blank lines, as in the committed migrations. */
function tidy(sql: string): string {
  return sql.replace(/\n{3,}/g, "\n\n");
}

async function diff(schema: string, from: DiffTarget): Promise<string | null> {
  return withSchemaEngine(schema, async (engine) => {
    const result = await engine.diff({
      from,
      to: { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: schema }] },
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    });
    // With exitCode set, the engine answers 2 when there is something to do and 0 when not.
    return result.exitCode === 2 ? tidy(result.stdout ?? "") : null;
  });
}

/** The SQL Prisma Migrate would write to create `schemaText` in an empty PostgreSQL database. */
export async function schemaToSql(schemaText: string): Promise<string> {
  return (await diff(schemaText, { tag: "empty" })) ?? "";
}

/**
 * The SQL Prisma Migrate would write for the next migration: from the state the migrations in `dir`
 * produce (replayed by the engine on a scratch shadow database) to `schemaText`; null when they agree.
 */
export async function migrationsToSchemaSql(
  schemaText: string,
  dir = MIGRATIONS_DIR,
): Promise<string | null> {
  return diff(schemaText, { tag: "migrations", ...(await migrationList(dir)) });
}

/** The migrations in `dir` as the schema engine takes them (what Prisma's CLI reads from disk). */
export async function migrationList(dir = MIGRATIONS_DIR): Promise<MigrationList> {
  const migrations = await readMigrations(dir);
  const lockfile = await readFile(join(dir, "migration_lock.toml"), "utf8").catch(() => null);
  return {
    baseDir: dir,
    lockfile: { path: "migration_lock.toml", content: lockfile },
    shadowDbInitScript: "",
    migrationDirectories: migrations.map((migration) => ({
      path: migration.name,
      migrationFile: { path: "migration.sql", content: { tag: "ok", value: migration.sql } },
    })),
  };
}

/**
 * The UTC time now as yyyyMMddHHmmss, or one second after the last migration's timestamp when that is
 * not earlier (a clock behind the last migration would otherwise sort the new one first).
 */
function nextTimestamp(lastName: string | undefined): string {
  let time = Date.now();
  const last = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})/.exec(lastName ?? "");
  if (last) {
    const [year, month, day, hour, minute, second] = last.slice(1).map(Number) as number[];
    time = Math.max(time, Date.UTC(year!, month! - 1, day, hour, minute, second) + 1000);
  }
  return new Date(time).toISOString().replace(/\D/g, "").slice(0, 14);
}

/** Runs `use` with a new empty database on the server, dropped afterwards. */
async function withScratchDatabase<T>(use: (url: string) => Promise<T>): Promise<T> {
  const name = uniqueDatabaseName("scratch");
  await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
  try {
    return await use(databaseUrl(name));
  } finally {
    await dropDatabase(name);
  }
}

/** The catalog of a database the migrations in `dir` were applied to. */
async function migratedCatalog(dir = MIGRATIONS_DIR): Promise<Catalog> {
  return withScratchDatabase(async (url) => {
    await migrate(url, { dir });
    return describeCatalog(url);
  });
}

/** The catalog of a database built straight from `schemaText`. */
async function schemaCatalog(schemaText: string): Promise<Catalog> {
  const sql = await schemaToSql(schemaText);
  return withScratchDatabase(async (url) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
    return describeCatalog(url);
  });
}

/**
 * `new <name>`: writes `<dir>/<UTC yyyyMMddHHmmss>_<name>/migration.sql` taking the migrations to the
 * schema, or says there is nothing to do. Returns the exit code for the command line.
 */
export async function newMigration(
  name: string,
  { schemaPath = SCHEMA_PATH, dir = MIGRATIONS_DIR }: { schemaPath?: string; dir?: string } = {},
): Promise<number> {
  if (!/^[A-Za-z0-9_]+$/.test(name)) {
    console.error("The migration name may contain only letters, digits and underscores.");
    return 1;
  }
  const schema = await readFile(schemaPath, "utf8");
  const existing = await readMigrations(dir);
  let sql: string;
  let expected: Catalog | undefined;
  if (existing.length === 0) {
    sql = await schemaToSql(schema);
  } else {
    expected = await schemaCatalog(schema);
    const differences = diffCatalogs(await migratedCatalog(dir), expected);
    if (differences.length === 0) {
      console.log("No changes: the migrations already produce prisma/schema.prisma.");
      return 0;
    }
    try {
      const next = await migrationsToSchemaSql(schema, dir);
      if (next === null) throw new Error("the engine found no difference, but the catalogs differ");
      sql = next;
    } catch (error) {
      console.error(
        `The schema engine could not write the migration (${(error as Error).message}).\n\n` +
          `-- The schema from nothing:\n${await schemaToSql(schema)}\n` +
          `-- What the migrations produce compared with the schema (- migrations only, + schema only, ~ different):\n` +
          `${differences.join("\n")}\n\n` +
          `Write the ALTER statements by hand in prisma/migrations/<timestamp>_${name}/migration.sql.`,
      );
      return 1;
    }
  }

  const stamp = nextTimestamp(existing.at(-1)?.name);
  const folder = join(dir, `${stamp}_${name.toLowerCase()}`);
  await mkdir(folder, { recursive: true });
  const file = join(folder, "migration.sql");
  await writeFile(file, sql);
  console.log(`Wrote ${file}`);

  const remaining = diffCatalogs(await migratedCatalog(dir), expected ?? (await schemaCatalog(schema)));
  if (remaining.length > 0) {
    console.error(
      `The new migration does not fully produce the schema; edit it by hand:\n${remaining.join("\n")}`,
    );
    return 1;
  }
  console.log("Checked: the migrations now produce exactly prisma/schema.prisma.");
  return 0;
}

async function main(args: string[]): Promise<number> {
  const [command, name] = args;
  if (command === "sql") {
    process.stdout.write(await schemaToSql(await readFile(SCHEMA_PATH, "utf8")));
    return 0;
  }
  if (command === "new" && name) return newMigration(name);
  console.error("usage: tsx scripts/schema-engine.ts sql | new <name>");
  return 2;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    },
  );
}
