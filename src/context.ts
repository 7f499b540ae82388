import type { Config } from "./config.ts";
import type { PrismaClient } from "./db/client.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { TokenService } from "./modules/accounts/tokens.ts";

/** What every route, handler and service gets: built once in createApplication. */
export interface AppContext {
  config: Config;
  prisma: PrismaClient;
  logger: Logger;
  tokens: TokenService;
  metrics: Metrics;
}
