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
