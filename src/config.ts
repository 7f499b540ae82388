import { z } from "zod";
import { LIMITS } from "./protocol/limits.ts";

/** The secret used when JWT_SECRET is unset outside production. Production refuses it. */
export const DEVELOPMENT_JWT_SECRET = "stepstone-development-secret-do-not-use-in-production";

/** The pool's server-side timeouts (ms) when DATABASE_*_TIMEOUT_MS are unset. */
export const DATABASE_TIMEOUT_DEFAULTS = { statementMs: 15_000, idleInTransactionMs: 10_000 } as const;

const port = z.coerce.number().int().min(0).max(65535);
const seconds = z.coerce
  .number()
  .int()
  .min(1)
  .max(7 * 24 * 3600);
const flag = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((value) => value === "true" || value === "1" || value === "yes");
const list = z.string().transform((value) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean),
);
const postgresUrl = z
  .string()
  .url()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), "must be a postgres:// or postgresql:// URL");
const redisUrl = z
  .string()
  .url()
  .refine((value) => /^rediss?:\/\//.test(value), "must be a redis:// or rediss:// URL");

const environmentSchema = z.object({
  /** development, test or production. Production refuses default secrets. */
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  /** Address to listen on. */
  HOST: z.string().min(1).default("127.0.0.1"),
  /** Port to listen on; 0 picks a free one. */
  PORT: port.default(3000),
  /**
   * Connections the kernel holds for the server before it accepts them (listen(2) backlog; the
   * kernel caps it at net.core.somaxconn). Node's default, 511, overflows when a lecture hall
   * connects at once and a busy event loop accepts late: the overflowing connections are reset.
   */
  LISTEN_BACKLOG: z.coerce.number().int().min(1).max(65_535).default(4_096),
  /**
   * Ballot groups of one prompt this node writes side by side (src/modules/prompts/ballot-queue.ts,
   * BALLOT_LANES when unset); 1 writes them one after another.
   */
  BALLOT_LANES: z.coerce.number().int().min(1).max(16).optional(),
  /** Base URL that join links point at; defaults to http://localhost:PORT. */
  PUBLIC_URL: z.string().url().optional(),
  /** PostgreSQL to use. Unset: an embedded PostgreSQL (PGlite) keeps its data in DATA_DIR. */
  DATABASE_URL: postgresUrl.optional(),
  /** Connections in the app's PostgreSQL pool (the embedded database always uses one). */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * Longest a statement may run or wait for a lock (ms, PostgreSQL's statement_timeout); longer is
   * cancelled and answered `unavailable`, so a stuck query cannot hold a connection for ever.
   */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(DATABASE_TIMEOUT_DEFAULTS.statementMs),
  /** Longest a transaction may sit open between statements (ms) before PostgreSQL ends it. */
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(DATABASE_TIMEOUT_DEFAULTS.idleInTransactionMs),
  /**
   * Redis shared by the nodes of one deployment: the Socket.IO adapter, rate limits, the socket cap
   * and presence (docs/scaling.md). Unset: one node, all of it in memory.
   */
  REDIS_URL: redisUrl.optional(),
  /** Prefix of every Redis key and channel, so that deployments can share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[\w.:-]{1,64}$/, "letters, digits and . : - _ only, at most 64")
    .default("stepstone:"),
  /**
   * How often each node renews the presence of its sockets in Redis (ms). A socket not renewed for
   * three intervals is gone, so a node that dies leaves its members listed for at most four.
   */
  PRESENCE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /**
   * Participants and observers see who is present by name in a room of at most this many present;
   * in a larger one the moderators by name and the rest as counts (moderators always see everyone).
   */
  PRESENCE_LISTED_MAX: z.coerce.number().int().min(0).max(10_000).default(LIMITS.presenceListedMax),
  /** HMAC secret for JWTs, at least 32 characters. Required in production. */
  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** JWT issuer and audience claims, checked on every verification. */
  JWT_ISSUER: z.string().min(1).default("stepstone"),
  JWT_AUDIENCE: z.string().min(1).default("stepstone"),
  /** Lifetime of a moderator's access token, in seconds. */
  MODERATOR_TOKEN_TTL: seconds.default(3600),
  /** Lifetime of a guest's seminar-scoped token, in seconds. */
  GUEST_TOKEN_TTL: seconds.default(3600),
  /** Origins allowed to call the API and open sockets from a browser; empty allows same-origin only. */
  CORS_ORIGINS: list.default([]),
  /** pino log level. */
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Folder for the embedded database and other local state. */
  DATA_DIR: z.string().min(1).default(".data"),
  /** Seed the demo seminar on first start (embedded database only by default). */
  SEED_DEMO: flag.optional(),
  /** Joins by code allowed per client address per minute. */
  JOINS_PER_MINUTE_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(1_200),
  /** Transcript downloads one member may start per minute (each reads the whole session). */
  TRANSCRIPTS_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(10),
  /** Guest resumes (and resume-secret revocations) allowed per client address per minute. */
  RESUMES_PER_MINUTE_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(600),
  /**
   * Bearer token for the metrics. Without METRICS_PORT, /metrics on the main port exists only when
   * this is set; with METRICS_PORT, the metrics port checks it too.
   */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** A port of its own for GET /metrics (on HOST), kept off the public load balancer; 0 picks one. */
  METRICS_PORT: port.optional(),
  /**
   * How long, after SIGTERM, /readyz answers 503 while the node still serves, so that the load
   * balancer stops sending new work before connections close. At most 5 s, which keeps a whole
   * shutdown under 8 s (a container's usual grace is 10 s).
   */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(5_000).default(2_000),
  /** Express "trust proxy" setting: number of proxies in front of the app. */
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
});

/** The validated configuration the whole process runs on. */
export type Config = ReturnType<typeof toConfig>;

function toConfig(env: z.infer<typeof environmentSchema>) {
  const production = env.NODE_ENV === "production";
  return {
    env: env.NODE_ENV,
    production,
    host: env.HOST,
    port: env.PORT,
    listenBacklog: env.LISTEN_BACKLOG,
    ballotLanes: env.BALLOT_LANES,
    publicUrl: env.PUBLIC_URL?.replace(/\/$/, ""),
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    databaseTimeouts: {
      statementMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      idleInTransactionMs: env.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    redisUrl: env.REDIS_URL,
    redisPrefix: env.REDIS_PREFIX,
    presenceHeartbeatMs: env.PRESENCE_HEARTBEAT_MS,
    presenceListedMax: env.PRESENCE_LISTED_MAX,
    jwt: {
      secret: env.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      moderatorTtlSeconds: env.MODERATOR_TOKEN_TTL,
      guestTtlSeconds: env.GUEST_TOKEN_TTL,
    },
    corsOrigins: env.CORS_ORIGINS,
    logLevel: env.LOG_LEVEL,
    dataDir: env.DATA_DIR,
    seedDemo: env.SEED_DEMO ?? env.DATABASE_URL === undefined,
    trustProxy: env.TRUST_PROXY,
    joinsPerMinutePerAddress: env.JOINS_PER_MINUTE_PER_ADDRESS,
    transcriptsPerMinute: env.TRANSCRIPTS_PER_MINUTE,
    resumesPerMinutePerAddress: env.RESUMES_PER_MINUTE_PER_ADDRESS,
    metricsToken: env.METRICS_TOKEN,
    metricsPort: env.METRICS_PORT,
    shutdownDrainMs: env.SHUTDOWN_DRAIN_MS,
  };
}

/** A configuration problem: one line naming the variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Reads and validates the configuration from an environment (process.env by default).
 * Throws ConfigError naming the first bad variable; in production a missing or default
 * JWT_SECRET is an error.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join(".") || "environment"}: ${issue.message}`);
  }
  const config = toConfig(parsed.data);
  if (config.production && (!parsed.data.JWT_SECRET || parsed.data.JWT_SECRET === DEVELOPMENT_JWT_SECRET)) {
    throw new ConfigError(
      "JWT_SECRET: must be set to a secret of your own in production (at least 32 characters)",
    );
  }
  return config;
}

/** Overrides for tests and tools: a full configuration from a partial environment. */
export function buildConfig(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", ...overrides });
}
