import { afterAll, inject } from "vitest";
import { createPrismaClient, type PrismaClient, type Tx } from "../../src/db/client.ts";
import { databaseUrl, dropDatabase, uniqueDatabaseName, withAdmin } from "./postgres.ts";

/** A database of this test file's own. */
export interface TestDatabase {
  name: string;
  url: string;
  prisma: PrismaClient;
}

async function createFromTemplate(name: string, template: string): Promise<void> {
  // CREATE DATABASE … TEMPLATE refuses while another session copies the same template; retry.
  for (let attempt = 0; ; attempt++) {
    try {
      await withAdmin((client) => client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
      return;
    } catch (error) {
      if (attempt >= 20 || !/being accessed by other users/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150));
    }
  }
}

/**
 * Creates a freshly migrated database for the calling test file (a copy of the run's template)
 * and drops it after the file's tests.
 */
export async function useTestDatabase(): Promise<TestDatabase> {
  const name = uniqueDatabaseName("test");
  await createFromTemplate(name, inject("templateDatabase"));
  const url = databaseUrl(name);
  const prisma = createPrismaClient(url);
  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabase(name);
  });
  return { name, url, prisma };
}

/** Creates an empty database (no migrations) and drops it after the file's tests. */
export async function useEmptyDatabase(): Promise<{ name: string; url: string }> {
  const name = uniqueDatabaseName("empty");
  await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
  afterAll(() => dropDatabase(name));
  return { name, url: databaseUrl(name) };
}

/**
 * Runs `take` (a statement that takes a lock) in a transaction of the test and keeps that
 * transaction open until the returned function is called, which resolves once it has ended: the
 * application's statements that need the lock wait meanwhile, for as long as the test needs,
 * however fast the machine.
 */
export async function holdLock(
  prisma: PrismaClient,
  take: (tx: Tx) => Promise<unknown>,
  options: { timeoutMs: number } = { timeoutMs: 60_000 },
): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked!: () => void;
  const holding = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const done = prisma.$transaction(
    async (tx) => {
      await take(tx);
      locked();
      await released;
    },
    { maxWait: 10_000, timeout: options.timeoutMs },
  );
  // A failure to take the lock rejects here rather than leaving the test waiting.
  await Promise.race([holding, done]);
  return async () => {
    release();
    await done;
  };
}
