import type { Config } from "./config.ts";
import type { PrismaClient } from "./db/client.ts";
import type { RateLimits } from "./http/rate-limit.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { TokenService } from "./modules/accounts/tokens.ts";
import type { RedisLink } from "./redis.ts";

/** What every route, handler and service gets: built once in createApplication. */
export interface AppContext {
  config: Config;
  prisma: PrismaClient;
  logger: Logger;
  tokens: TokenService;
  metrics: Metrics;
  /** The deployment's Redis (REDIS_URL), shared by the nodes; undefined on a single node. */
  redis: RedisLink | undefined;
  /** Rate limits, counted in Redis when there is one, else in this process. */
  rateLimits: RateLimits;
  /**
   * The public base URL of join links: PUBLIC_URL, else the address the server listens on. Resolved
   * once at listen (Application.setPublicUrl) and read through this function, so nothing holds a
   * copy that could disagree (REST answers, snapshots and events all call it).
   */
  publicUrl(): string;
}
