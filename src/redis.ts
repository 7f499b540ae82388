import type { createAdapter } from "@socket.io/redis-adapter";
import type { Redis } from "ioredis";
import type { Logger } from "./logger.ts";

/** What the Socket.IO server takes as its adapter (`io.adapter(...)`). */
export type AdapterConstructor = ReturnType<typeof createAdapter>;

/**
 * The node's connection to the deployment's Redis (REDIS_URL): rate limits, presence and the
 * Socket.IO adapter's publishing side share `client`; the adapter subscribes on a duplicate.
 * Commands wait in ioredis's offline queue while it reconnects and fail after a few retries, so a
 * Redis outage turns into retryable errors, not a stuck node.
 */
export interface RedisLink {
  readonly client: Redis;
  /**
   * The adapter that carries broadcasts between nodes over Redis pub/sub on channels named
   * `key`; its subscribing connection is a duplicate of `client`, closed with it.
   */
  adapter(key: string): AdapterConstructor;
  /** Closes the subscribing connections, then the client. */
  close(): Promise<void>;
}

const importRedisModules = () => Promise.all([import("ioredis"), import("@socket.io/redis-adapter")]);
let loading: ReturnType<typeof importRedisModules> | undefined;

/**
 * Loads ioredis and the Socket.IO Redis adapter (once). A single node never calls this, so it
 * never pays for loading them; main.ts starts it early when REDIS_URL is set, beside the rest of
 * the code.
 */
export function loadRedisModules(): ReturnType<typeof importRedisModules> {
  loading ??= importRedisModules();
  return loading;
}

/** Connects to the deployment's Redis (see RedisLink), loading the client library on first use. */
export async function connectRedis(url: string, logger: Logger): Promise<RedisLink> {
  const [{ Redis }, adapterModule] = await loadRedisModules();
  const client = new Redis(url, { maxRetriesPerRequest: 3 });
  watchRedis(client, logger);
  const subscribers: Redis[] = [];
  return {
    client,
    adapter(key) {
      const subscriber = client.duplicate();
      watchRedis(subscriber, logger);
      subscribers.push(subscriber);
      return adapterModule.createAdapter(client, subscriber, { key });
    },
    async close() {
      await Promise.all(subscribers.map((subscriber) => subscriber.quit()));
      await client.quit();
    },
  };
}

/** Logs a client's errors (ioredis reconnects by itself). */
function watchRedis(redis: Redis, logger: Logger): void {
  redis.on("error", (error) => logger.warn({ err: error }, "redis error"));
}
