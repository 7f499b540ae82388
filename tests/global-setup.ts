import type { TestProject } from "vitest/node";
import { migrate } from "../src/db/migrator.ts";
import { databaseUrl, dropDatabase, SERVER_URL, uniqueDatabaseName, withAdmin } from "./helpers/postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** A migrated database that each test file copies (CREATE DATABASE … TEMPLATE). */
    templateDatabase: string;
  }
}

/**
 * Checks that PostgreSQL is reachable (and fails the whole run loudly when it is not: database
 * tests never pass silently), then migrates one template database for the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    await withAdmin((client) => client.query("SELECT 1"));
  } catch (error) {
    throw new Error(
      `\n\n*** PostgreSQL is not reachable at ${SERVER_URL.replace(/\/\/[^@]*@/, "//…@")}: ${(error as Error).message}\n` +
        "*** The tests need a real PostgreSQL. Start one (see README: Testing) or set TEST_DATABASE_URL.\n",
    );
  }
  const template = uniqueDatabaseName("template");
  await withAdmin((client) => client.query(`CREATE DATABASE "${template}"`));
  await migrate(databaseUrl(template));
  project.provide("templateDatabase", template);
  return async () => {
    const leftovers = await withAdmin((client) =>
      client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [
        `stepstone\\_%\\_${process.pid}\\_%`,
      ]),
    );
    await dropDatabase(template);
    for (const row of leftovers.rows) if (row.datname !== template) await dropDatabase(row.datname);
  };
}
