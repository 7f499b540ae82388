import { randomUUID } from "node:crypto";

/** The Redis the tests use (TEST_REDIS_URL, else the local one). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Environment for the nodes of one test deployment: the shared Redis under a key prefix of its
 * own, so that parallel test files (and other checkouts on the same Redis) never share rate limits,
 * presence or adapter channels.
 */
export function redisEnv(): { REDIS_URL: string; REDIS_PREFIX: string } {
  return { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `test-${randomUUID().slice(0, 13)}:` };
}
