import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.ts";

export { Prisma } from "../generated/prisma/client.ts";
export type { PrismaClient };

/** A transaction client, as handed to `$transaction` callbacks. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/**
 * Opens a Prisma client over the `pg` driver adapter (Prisma 7: no Rust engine at run time).
 * `maxConnections` is 1 for the embedded database, which runs one session at a time.
 */
export function createPrismaClient(
  databaseUrl: string,
  options: { maxConnections?: number } = {},
): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  return new PrismaClient({ adapter });
}
