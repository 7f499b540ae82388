import { PrismaPg } from "@prisma/adapter-pg";
import { DATABASE_TIMEOUT_DEFAULTS } from "../config.ts";
import { PrismaClient } from "../generated/prisma/client.ts";

export { Prisma } from "../generated/prisma/client.ts";
export type { PrismaClient };

/** A transaction client, as handed to `$transaction` callbacks. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/** How the pool is sized and how long the database lets one statement or idle transaction run. */
export interface PrismaClientOptions {
  /** 1 for the embedded database, which runs one session at a time. */
  maxConnections?: number;
  /**
   * PostgreSQL's statement_timeout for every connection: a statement running (or waiting for a
   * lock) longer is cancelled with 57014, which callers answer as `unavailable`.
   */
  statementTimeoutMs?: number;
  /**
   * idle_in_transaction_session_timeout: a transaction left open without a statement this long is
   * ended by the server, so a stalled request cannot hold a room's lock.
   */
  idleInTransactionTimeoutMs?: number;
  /** PostgreSQL's application_name (pg_stat_activity): which part of the server a connection serves. */
  applicationName?: string;
}

/** Opens a Prisma client over the `pg` driver adapter (Prisma 7: no Rust engine at run time). */
export function createPrismaClient(databaseUrl: string, options: PrismaClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? "stepstone",
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? DATABASE_TIMEOUT_DEFAULTS.statementMs,
    idle_in_transaction_session_timeout:
      options.idleInTransactionTimeoutMs ?? DATABASE_TIMEOUT_DEFAULTS.idleInTransactionMs,
  });
  return new PrismaClient({ adapter });
}
