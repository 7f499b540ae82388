import type { Redis } from "ioredis";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import { fail } from "../errors.ts";

/** What a limiter counts: `points` uses per `durationSeconds`, per key. */
export interface LimiterOptions {
  /** Unique within the deployment: the nodes' limiters of the same name share their counts. */
  name: string;
  points: number;
  durationSeconds: number;
}

/**
 * Where the rate limits keep their counts. Without Redis, in this process (one node). With Redis,
 * in rate-limiter-flexible's Redis store (one atomic script per use), so a limit holds across every
 * node of the deployment; if Redis stops answering, each node falls back to counting in memory
 * (the insurance limiter) rather than refusing everyone or letting everything through.
 */
export class RateLimits {
  constructor(
    private readonly redis: Redis | undefined,
    private readonly prefix: string,
  ) {}

  /** A limiter of rate-limiter-flexible with the deployment's store (for the login throttle). */
  limiter({ name, points, durationSeconds }: LimiterOptions): RateLimiterAbstract {
    const memory = new RateLimiterMemory({ keyPrefix: name, points, duration: durationSeconds });
    if (!this.redis) return memory;
    return new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: `${this.prefix}rl:${name}`,
      points,
      duration: durationSeconds,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    });
  }

  /** A named limit whose `consume` throws `rate_limited` (with retryAfterMs) when exceeded. */
  create(name: string, points: number, durationSeconds: number): RateLimit {
    return new RateLimit(this.limiter({ name, points, durationSeconds }));
  }

  /** A limit counted in this process only: for keys that live on one node (a socket id). */
  local(name: string, points: number, durationSeconds: number): RateLimit {
    return new RateLimit(new RateLimiterMemory({ keyPrefix: name, points, duration: durationSeconds }));
  }
}

/** A rate limit; `consume` throws `rate_limited` (with retryAfterMs) when exceeded. */
export class RateLimit {
  constructor(private readonly limiter: RateLimiterAbstract) {}

  /** Counts one use for `key`. */
  async consume(key: string, points = 1): Promise<void> {
    try {
      await this.limiter.consume(key, points);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw fail.rateLimited(error.msBeforeNext);
      throw error;
    }
  }
}

/** At most `max` of something running at once on this process (heavy downloads, for example). */
export class ConcurrencyLimit {
  private active = 0;

  constructor(
    private readonly max: number,
    private readonly retryAfterMs = 1_000,
  ) {}

  /** Takes a place, or throws `rate_limited` (retryable) when all are taken; returns its release. */
  take(): () => void {
    if (this.active >= this.max) throw fail.rateLimited(this.retryAfterMs);
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
    };
  }
}
