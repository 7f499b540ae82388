import { Redis } from "ioredis";
import type { Logger } from "./logger.ts";

/**
 * The node's connection to the deployment's Redis (REDIS_URL): rate limits, presence and the
 * Socket.IO adapter's publishing side share it; the adapter subscribes on a duplicate. Commands
 * wait in ioredis's offline queue while it reconnects and fail after a few retries, so a Redis
 * outage turns into retryable errors, not a stuck node.
 */
export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  watchRedis(redis, logger);
  return redis;
}

/** Logs a client's errors (ioredis reconnects by itself). */
export function watchRedis(redis: Redis, logger: Logger): void {
  redis.on("error", (error) => logger.warn({ err: error }, "redis error"));
}
