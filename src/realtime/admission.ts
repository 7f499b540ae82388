import pLimit, { type LimitFunction } from "p-limit";
import { AppError } from "../errors.ts";

/** How an admission gate is sized. */
export interface AdmissionOptions {
  /** Requests served at once (each holds one pooled database connection while it runs). */
  slots: number;
  /**
   * The longest a request may wait for a slot. A request that would wait longer is answered
   * `unavailable` at once, and one still waiting when this time is up is answered so then, with a
   * hint of when the queue will have drained, instead of waiting until its client gives up.
   */
  maxWaitMs: number;
}

/** Bounds of the retry hint (ms): soon enough to keep the node busy, late enough to spread retries. */
const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 15_000;

/** Weight of the latest service time in the running mean (exponentially weighted). */
const SMOOTHING = 0.2;

/**
 * A per-node gate for the work that takes a pooled database connection per request and that a
 * crowd asks for at the same moment: authenticating a connection, loading the room (snapshot or
 * catch-up), looking a join code up. At most `slots` run at once, so the database pool is never
 * exhausted by them (writes and ballots keep the connections left over); the rest wait in order.
 * A request is refused `unavailable` with `details.retryAfterMs` when its wait, judged from the
 * queue's length and the mean time a request takes, would exceed `maxWaitMs`, and in any case
 * once it has waited that long (the running ones may be stuck on a slow database): every request
 * gets an answer within maxWaitMs plus its own work. The hint is the time the queue needs to drain
 * (at least maxWaitMs after a timed-out wait), spread by a random quarter so that the refused do
 * not all come back together.
 */
export class Admission {
  private readonly limit: LimitFunction;
  /** Running mean of the time one request holds its slot (ms). */
  private meanServiceMs = 20;
  private refusedCount = 0;
  private peakWaiting = 0;

  constructor(private readonly options: AdmissionOptions) {
    this.limit = pLimit(options.slots);
  }

  /**
   * Runs `work` in a slot, now or after those queued before it. `unavailable` (nothing run) when
   * the wait would exceed maxWaitMs or did.
   */
  run<T>(work: () => Promise<T>): Promise<T> {
    if (this.limit.activeCount >= this.options.slots && this.expectedWaitMs() > this.options.maxWaitMs)
      return Promise.reject(this.refuse(0));
    return new Promise<T>((resolve, reject) => {
      let waiting = true;
      const timer = setTimeout(() => {
        waiting = false;
        reject(this.refuse(this.options.maxWaitMs));
      }, this.options.maxWaitMs);
      void this.limit(async () => {
        // Refused while it waited: its turn passes to the next one at once.
        if (!waiting) return;
        waiting = false;
        clearTimeout(timer);
        const started = performance.now();
        try {
          resolve(await work());
        } catch (error) {
          reject(error);
        } finally {
          this.observe(performance.now() - started);
        }
      });
      this.peakWaiting = Math.max(this.peakWaiting, this.limit.pendingCount);
    });
  }

  /** What the gate has done so far: requests refused, and the longest queue it held. */
  stats(): { refused: number; peakWaiting: number; waiting: number; running: number } {
    return {
      refused: this.refusedCount,
      peakWaiting: this.peakWaiting,
      waiting: this.limit.pendingCount,
      running: this.limit.activeCount,
    };
  }

  /** How long a request queued now would wait for its slot (ms). */
  private expectedWaitMs(): number {
    return ((this.limit.pendingCount + 1) * this.meanServiceMs) / this.options.slots;
  }

  private observe(ms: number): void {
    this.meanServiceMs += SMOOTHING * (ms - this.meanServiceMs);
  }

  private refuse(atLeastMs: number): AppError {
    this.refusedCount++;
    const drain = Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, atLeastMs, this.expectedWaitMs()));
    const retryAfterMs = Math.round(drain * (1 + Math.random() / 4));
    return new AppError("unavailable", "The server is busy admitting others; try again shortly.", {
      retryAfterMs,
    });
  }
}
