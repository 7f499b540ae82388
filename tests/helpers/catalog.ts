import pg from "pg";

/** An enum type with its labels in declaration (sort) order. */
export interface CatalogEnum {
  name: string;
  labels: string[];
}

/** A column as PostgreSQL stores it. */
export interface CatalogColumn {
  name: string;
  /** `format_type(atttypid, atttypmod)`, for example `character varying(64)` or `text[]`. */
  type: string;
  notNull: boolean;
  /** `pg_get_expr` of the default, or null. */
  default: string | null;
  /** `a` (ALWAYS) or `d` (BY DEFAULT) for identity columns, else null. */
  identity: string | null;
}

/** A primary key or unique constraint. */
export interface CatalogKey {
  name: string;
  /** Column names in key order. */
  columns: string[];
}

/** An index (including the ones behind primary keys and unique constraints). */
export interface CatalogIndex {
  name: string;
  unique: boolean;
  /** Column names in index order; null for an expression column. */
  columns: (string | null)[];
  /** `pg_get_indexdef` with the `public.` qualifier removed. */
  definition: string;
}

/** A foreign key. */
export interface CatalogForeignKey {
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
  /** `pg_get_constraintdef` with the `public.` qualifier removed (includes ON UPDATE/ON DELETE). */
  definition: string;
}

/** The referential actions as Prisma spells them. */
export type ReferentialAction = "NoAction" | "Restrict" | "Cascade" | "SetNull" | "SetDefault";

/** A check constraint. */
export interface CatalogCheck {
  name: string;
  definition: string;
}

/** A table with everything defined on it; every list is sorted by name. */
export interface CatalogTable {
  name: string;
  columns: CatalogColumn[];
  primaryKey: CatalogKey | null;
  uniqueConstraints: CatalogKey[];
  indexes: CatalogIndex[];
  foreignKeys: CatalogForeignKey[];
  checks: CatalogCheck[];
}

/**
 * A normalised description of schema `public` (without `_prisma_migrations`): plain JSON, sorted,
 * so two databases built differently can be compared with a deep equality.
 */
export interface Catalog {
  enums: CatalogEnum[];
  tables: CatalogTable[];
}

const ACTIONS: Record<string, ReferentialAction> = {
  a: "NoAction",
  r: "Restrict",
  c: "Cascade",
  n: "SetNull",
  d: "SetDefault",
};

const byName = <T extends { name: string }>(a: T, b: T): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** Removes the `public.` schema qualifier PostgreSQL puts into index and constraint definitions. */
function unqualify(definition: string): string {
  return definition.replace(/(?<![\w"])(?:public|"public")\./g, "");
}

/**
 * Describes schema `public` of the database at `url` from the PostgreSQL catalogs: enums, tables,
 * columns (type, nullability, default), primary keys, unique constraints, indexes, foreign keys and
 * check constraints. The result is sorted and JSON-comparable.
 */
export async function describeCatalog(url: string): Promise<Catalog> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Types and expressions are printed relative to the search path: make it the same everywhere.
    await client.query("SET search_path = public");

    const enums = await client.query<{ name: string; labels: string[] }>(
      `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
         FROM pg_type t
         JOIN pg_namespace n ON n.oid = t.typnamespace
         JOIN pg_enum e ON e.enumtypid = t.oid
        WHERE n.nspname = 'public'
        GROUP BY t.typname`,
    );

    const tables = await client.query<{ oid: number; name: string }>(
      `SELECT c.oid::int AS oid, c.relname AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> '_prisma_migrations'`,
    );

    const columns = await client.query<CatalogColumn & { table: number }>(
      `SELECT a.attrelid::int AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
              a.attnotnull AS "notNull", pg_get_expr(d.adbin, d.adrelid) AS default,
              NULLIF(a.attidentity::text, '') AS identity
         FROM pg_attribute a
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped`,
      [tables.rows.map((table) => table.oid)],
    );

    const constraints = await client.query<{
      table: number;
      name: string;
      type: string;
      columns: string[];
      referencedTable: string | null;
      referencedColumns: string[] | null;
      onDelete: string;
      onUpdate: string;
      definition: string;
    }>(
      `SELECT c.conrelid::int AS table, c.conname AS name, c.contype::text AS type,
              ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, i)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.i) AS columns,
              f.relname AS "referencedTable",
              CASE WHEN c.contype = 'f' THEN
                ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(attnum, i)
                        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.i)
              END AS "referencedColumns",
              c.confdeltype::text AS "onDelete", c.confupdtype::text AS "onUpdate",
              pg_get_constraintdef(c.oid) AS definition
         FROM pg_constraint c
         LEFT JOIN pg_class f ON f.oid = c.confrelid
        WHERE c.conrelid = ANY($1::oid[])`,
      [tables.rows.map((table) => table.oid)],
    );

    const indexes = await client.query<CatalogIndex & { table: number }>(
      `SELECT i.indrelid::int AS table, c.relname AS name, i.indisunique AS unique,
              ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
                      LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                     WHERE k.n <= i.indnkeyatts ORDER BY k.n) AS columns,
              pg_get_indexdef(i.indexrelid) AS definition
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = ANY($1::oid[])`,
      [tables.rows.map((table) => table.oid)],
    );

    return {
      enums: enums.rows.map((row) => ({ name: row.name, labels: row.labels })).sort(byName),
      tables: tables.rows
        .map((table): CatalogTable => {
          const own = constraints.rows.filter((row) => row.table === table.oid);
          const primaryKey = own.find((row) => row.type === "p");
          return {
            name: table.name,
            columns: columns.rows
              .filter((row) => row.table === table.oid)
              .map(({ name, type, notNull, default: def, identity }) => ({
                name,
                type,
                notNull,
                default: def,
                identity,
              }))
              .sort(byName),
            primaryKey: primaryKey ? { name: primaryKey.name, columns: primaryKey.columns } : null,
            uniqueConstraints: own
              .filter((row) => row.type === "u")
              .map(({ name, columns }) => ({ name, columns }))
              .sort(byName),
            indexes: indexes.rows
              .filter((row) => row.table === table.oid)
              .map(({ name, unique, columns, definition }) => ({
                name,
                unique,
                columns,
                definition: unqualify(definition),
              }))
              .sort(byName),
            foreignKeys: own
              .filter((row) => row.type === "f")
              .map((row) => ({
                name: row.name,
                columns: row.columns,
                referencedTable: row.referencedTable ?? "",
                referencedColumns: row.referencedColumns ?? [],
                onDelete: ACTIONS[row.onDelete] ?? "NoAction",
                onUpdate: ACTIONS[row.onUpdate] ?? "NoAction",
                definition: unqualify(row.definition),
              }))
              .sort(byName),
            checks: own
              .filter((row) => row.type === "c")
              .map((row) => ({ name: row.name, definition: unqualify(row.definition) }))
              .sort(byName),
          };
        })
        .sort(byName),
    };
  } finally {
    await client.end();
  }
}

/**
 * Lists the differences between two catalogs as readable lines (`+` only in `actual`, `-` only in
 * `expected`, `~` different), for error messages; empty when they are equal.
 */
export function diffCatalogs(expected: Catalog, actual: Catalog): string[] {
  const lines: string[] = [];
  const compare = <T extends { name: string }>(label: string, a: T[], b: T[]): void => {
    for (const item of a) {
      const other = b.find((candidate) => candidate.name === item.name);
      if (!other) lines.push(`- ${label} ${item.name}: ${JSON.stringify(item)}`);
      else if (JSON.stringify(other) !== JSON.stringify(item))
        lines.push(`~ ${label} ${item.name}: ${JSON.stringify(item)} → ${JSON.stringify(other)}`);
    }
    for (const item of b) {
      if (!a.some((candidate) => candidate.name === item.name))
        lines.push(`+ ${label} ${item.name}: ${JSON.stringify(item)}`);
    }
  };
  compare("enum", expected.enums, actual.enums);
  const tableNames = new Set([...expected.tables, ...actual.tables].map((table) => table.name));
  for (const name of [...tableNames].sort()) {
    const a = expected.tables.find((table) => table.name === name);
    const b = actual.tables.find((table) => table.name === name);
    if (!a || !b) {
      lines.push(`${a ? "-" : "+"} table ${name}`);
      continue;
    }
    compare(`column of ${name}:`, a.columns, b.columns);
    if (JSON.stringify(a.primaryKey) !== JSON.stringify(b.primaryKey))
      lines.push(
        `~ primary key of ${name}: ${JSON.stringify(a.primaryKey)} → ${JSON.stringify(b.primaryKey)}`,
      );
    compare(`unique constraint on ${name}:`, a.uniqueConstraints, b.uniqueConstraints);
    compare(`index on ${name}:`, a.indexes, b.indexes);
    compare(`foreign key on ${name}:`, a.foreignKeys, b.foreignKeys);
    compare(`check on ${name}:`, a.checks, b.checks);
  }
  return lines;
}
