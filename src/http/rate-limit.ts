import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { fail } from "../errors.ts";

/** A named rate limit; `consume` throws `rate_limited` (with retryAfterMs) when exceeded. */
export class RateLimit {
  private readonly limiter: RateLimiterMemory;

  constructor(points: number, durationSeconds: number) {
    this.limiter = new RateLimiterMemory({ points, duration: durationSeconds });
  }

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
