import { readFileSync } from "node:fs";
import { type GetDMMFError, getDMMF } from "@prisma/get-dmmf";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { SCHEMA_PATH, schemaToSql } from "../../scripts/schema-engine.ts";
import { migrate } from "../../src/db/migrator.ts";
import { type Catalog, type CatalogTable, describeCatalog, diffCatalogs } from "../helpers/catalog.ts";
import { useEmptyDatabase } from "../helpers/database.ts";

type Document = Exclude<ReturnType<typeof getDMMF>, GetDMMFError>;
type Model = Document["datamodel"]["models"][number];
type Field = Model["fields"][number];

const schema = readFileSync(SCHEMA_PATH, "utf8");

async function execute(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

// One database built by our migrations, one straight from schema.prisma by Prisma's schema engine.
const [migratedDb, freshDb] = await Promise.all([useEmptyDatabase(), useEmptyDatabase()]);
await Promise.all([migrate(migratedDb.url), schemaToSql(schema).then((sql) => execute(freshDb.url, sql))]);
const [migrated, fresh] = await Promise.all([describeCatalog(migratedDb.url), describeCatalog(freshDb.url)]);

describe("prisma/migrations against prisma/schema.prisma", () => {
  it("produce exactly the database Prisma Migrate would create from the schema", () => {
    expect(fresh.tables.length).toBeGreaterThan(10);
    expect(fresh.enums.length).toBeGreaterThan(0);
    // The readable list first, so a failure says what drifted; then the full structural comparison.
    expect(diffCatalogs(fresh, migrated)).toEqual([]);
    expect(migrated).toEqual(fresh);
  });
});

describe("the migrated database against the schema's models (DMMF)", () => {
  const dmmf = getDMMF({ datamodel: schema });
  if ("reason" in dmmf) throw new Error(`schema.prisma does not parse: ${dmmf.reason}`);
  const { models, enums, indexes } = dmmf.datamodel;
  const modelByName = new Map(models.map((model) => [model.name, model]));
  const enumByName = new Map(enums.map((item) => [item.name, item]));

  const tableName = (model: Model): string => model.dbName ?? model.name;
  const columnName = (model: Model, fieldName: string): string => {
    const field = model.fields.find((candidate) => candidate.name === fieldName);
    if (!field) throw new Error(`${model.name} has no field ${fieldName}`);
    return field.dbName ?? field.name;
  };
  const tableOf = (catalog: Catalog, model: Model): CatalogTable => {
    const table = catalog.tables.find((candidate) => candidate.name === tableName(model));
    if (!table) throw new Error(`no table ${tableName(model)} for model ${model.name}`);
    return table;
  };

  /** The PostgreSQL type (as `format_type` prints it) Prisma Migrate gives a scalar or enum field. */
  function expectedType(field: Field): string {
    const [native, args = []] = field.nativeType ?? [];
    let type: string;
    if (field.kind === "enum") {
      const item = enumByName.get(field.type);
      if (!item) throw new Error(`unknown enum ${field.type}`);
      type = item.dbName ?? item.name;
    } else if (field.type === "String" && native === "VarChar") type = `character varying(${args[0]})`;
    else if (field.type === "String" && native === "Uuid") type = "uuid";
    else if (field.type === "String" && (native === undefined || native === "Text")) type = "text";
    else if (field.type === "Int" && native === undefined) type = "integer";
    else if (field.type === "Boolean" && native === undefined) type = "boolean";
    else if (field.type === "DateTime" && native === "Timestamptz")
      type = `timestamp(${args[0]}) with time zone`;
    else if (field.type === "Json" && native === undefined) type = "jsonb";
    else throw new Error(`add ${field.type} @db.${native} to expectedType in this test`);
    return field.isList ? `${type}[]` : type;
  }

  it("has a table for every model and no table without one", () => {
    expect(migrated.tables.map((table) => table.name).sort()).toEqual(models.map(tableName).sort());
  });

  it("has every enum with its values in order", () => {
    for (const item of enums) {
      expect(migrated.enums, item.name).toContainEqual({
        name: item.dbName ?? item.name,
        labels: item.values.map((value) => value.dbName ?? value.name),
      });
    }
  });

  it("has a column of the declared type, nullability and default for every scalar field", () => {
    for (const model of models) {
      const table = tableOf(migrated, model);
      const fields = model.fields.filter((field) => field.kind === "scalar" || field.kind === "enum");
      expect(table.columns.map((column) => column.name).sort(), model.name).toEqual(
        fields.map((field) => field.dbName ?? field.name).sort(),
      );
      for (const field of fields) {
        const column = table.columns.find((candidate) => candidate.name === (field.dbName ?? field.name));
        const where = `${model.name}.${field.name}`;
        expect(column?.type, where).toBe(expectedType(field));
        // Prisma leaves scalar-list columns nullable even when the field is required.
        expect(column?.notNull, where).toBe(field.isRequired && !field.isList);
        expect(column?.default !== null, `${where} has a default`).toBe(field.hasDefaultValue);
      }
    }
  });

  it("has the primary key, a unique index for every @unique/@@unique and an index for every @@index", () => {
    for (const index of indexes) {
      const model = modelByName.get(index.model);
      if (!model) throw new Error(`index on unknown model ${index.model}`);
      const table = tableOf(migrated, model);
      const columns = index.fields.map((field) => columnName(model, field.name));
      const where = `${index.type} index on ${model.name}(${columns.join(", ")})`;
      if (index.type === "id") {
        expect(table.primaryKey?.columns, where).toEqual(columns);
        continue;
      }
      const unique = index.type === "unique";
      const method = (index.algorithm ?? "BTree").toLowerCase();
      const found = table.indexes.find(
        (candidate) =>
          candidate.unique === unique &&
          JSON.stringify(candidate.columns) === JSON.stringify(columns) &&
          candidate.definition.includes(` USING ${method} `),
      );
      expect(found, where).toBeDefined();
    }
  });

  it("has a foreign key with the declared onDelete/onUpdate for every relation", () => {
    let relations = 0;
    for (const model of models) {
      const table = tableOf(migrated, model);
      for (const field of model.fields) {
        if (field.kind !== "object" || !field.relationFromFields?.length) continue;
        relations++;
        const target = modelByName.get(field.type);
        if (!target) throw new Error(`relation to unknown model ${field.type}`);
        const columns = field.relationFromFields.map((name) => columnName(model, name));
        const foreignKey = table.foreignKeys.find(
          (candidate) => JSON.stringify(candidate.columns) === JSON.stringify(columns),
        );
        const where = `${model.name}.${field.name}`;
        expect(foreignKey, where).toBeDefined();
        expect(foreignKey?.referencedTable, where).toBe(tableName(target));
        expect(foreignKey?.referencedColumns, where).toEqual(
          (field.relationToFields ?? []).map((name) => columnName(target, name)),
        );
        // Prisma's defaults: Restrict for required relations, SetNull for optional ones; Cascade on update.
        expect(foreignKey?.onDelete, where).toBe(
          field.relationOnDelete ?? (field.isRequired ? "Restrict" : "SetNull"),
        );
        expect(foreignKey?.onUpdate, where).toBe(field.relationOnUpdate ?? "Cascade");
      }
    }
    const foreignKeys = migrated.tables.reduce((sum, table) => sum + table.foreignKeys.length, 0);
    expect(foreignKeys).toBe(relations);
  });
});

describe("describeCatalog", () => {
  it("notices a changed type, a changed delete rule, a new enum value and a missing index", async () => {
    await execute(
      freshDb.url,
      `ALTER TABLE "phases" ALTER COLUMN "title" TYPE VARCHAR(201);
       ALTER TABLE "seminars" DROP CONSTRAINT "seminars_spotlight_paragraph_id_fkey",
         ADD CONSTRAINT "seminars_spotlight_paragraph_id_fkey" FOREIGN KEY ("spotlight_paragraph_id")
         REFERENCES "paragraphs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
       ALTER TYPE "event_audience" ADD VALUE 'nobody';
       DROP INDEX "ballot_choices_option_id_idx";`,
    );
    const differences = diffCatalogs(migrated, await describeCatalog(freshDb.url));
    expect(differences).toHaveLength(4);
    expect(differences.join("\n")).toMatch(/column of phases: title/);
    expect(differences.join("\n")).toMatch(/foreign key on seminars: seminars_spotlight_paragraph_id_fkey/);
    expect(differences.join("\n")).toMatch(/enum event_audience/);
    expect(differences.join("\n")).toMatch(/index on ballot_choices: ballot_choices_option_id_idx/);
  });
});
