import { type RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import { fail } from "../../errors.ts";
import type { RateLimits } from "../../http/rate-limit.ts";

/** Consecutive failed logins allowed for one e-mail from one address, per window. */
export const MAX_CONSECUTIVE_FAILURES = 10;
/** Failed logins allowed from one address (any e-mail), per window. */
export const MAX_FAILURES_PER_ADDRESS = 100;
/** The window both counts live in, and so the longest a lock-out lasts (seconds). */
export const FAILURE_WINDOW_SECONDS = 15 * 60;

/**
 * Brute-force protection for login, as rate-limiter-flexible documents it: count only failures,
 * consecutive ones per e-mail and address (forgotten on a successful login) and all of them per
 * address. A moderator who knows the password is never locked out by their own logins, nor by a
 * lecture hall's successful ones behind the same address. The counts live in the deployment's
 * store (Redis with several nodes), so trying each node in turn gains nothing.
 */
export class LoginThrottle {
  private readonly byEmailAndAddress: RateLimiterAbstract;
  private readonly byAddress: RateLimiterAbstract;

  constructor(limits: RateLimits) {
    this.byEmailAndAddress = limits.limiter({
      name: "login_fail_email_address",
      points: MAX_CONSECUTIVE_FAILURES,
      durationSeconds: FAILURE_WINDOW_SECONDS,
    });
    this.byAddress = limits.limiter({
      name: "login_fail_address",
      points: MAX_FAILURES_PER_ADDRESS,
      durationSeconds: FAILURE_WINDOW_SECONDS,
    });
  }

  /** Throws `rate_limited` (with retryAfterMs) when either count has reached its limit. */
  async check(address: string, email: string): Promise<void> {
    const [pair, all] = await Promise.all([
      this.byEmailAndAddress.get(pairKey(address, email)),
      this.byAddress.get(address),
    ]);
    const waits = [
      pair && pair.consumedPoints >= MAX_CONSECUTIVE_FAILURES ? pair.msBeforeNext : 0,
      all && all.consumedPoints >= MAX_FAILURES_PER_ADDRESS ? all.msBeforeNext : 0,
    ];
    const wait = Math.max(...waits);
    if (wait > 0) throw fail.rateLimited(wait);
  }

  /** Counts a failed login (wrong e-mail or password). */
  async failed(address: string, email: string): Promise<void> {
    await Promise.all([
      this.byEmailAndAddress.consume(pairKey(address, email)).catch(ignoreLimit),
      this.byAddress.consume(address).catch(ignoreLimit),
    ]);
  }

  /** A successful login ends the run of consecutive failures for that e-mail and address. */
  async succeeded(address: string, email: string): Promise<void> {
    await this.byEmailAndAddress.delete(pairKey(address, email));
  }
}

const pairKey = (address: string, email: string) => `${address}|${email}`;

/** Over the limit while counting a failure is expected (check() refuses the next attempt). */
function ignoreLimit(error: unknown): void {
  if (!(error instanceof RateLimiterRes)) throw error;
}
