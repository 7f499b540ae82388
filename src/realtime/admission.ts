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

/** At most this many requests run together by default (see Admission.together). */
const TOGETHER_MAX = 64;

/** A request waiting to run together with others. */
interface Waiter {
  item: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

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
  /** Requests waiting to run together, by key (see together). */
  private readonly groups = new Map<
    string,
    { waiters: Waiter[]; work: (items: unknown[]) => Promise<unknown[]>; max: number }
  >();
  /** Running mean of the time one request holds its slot (ms). */
  private meanServiceMs = 20;
  private refusedCount = 0;
  private peakWaiting = 0;
  /** Requests waiting in groups (see together), beside the gate's own queue. */
  private waitingTogether = 0;

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
      this.peakWaiting = Math.max(this.peakWaiting, this.waitingCount());
    });
  }

  /**
   * Runs `item` together with the requests of the same `key` that wait for a slot at the same
   * moment: the key's first request queues at the gate, and those that arrive while it waits ride
   * with it (up to `max`; the rest take the next turn). When the turn comes, `work` gets them all
   * and answers each, in their order, with a result or an Error. So a crowd asking for the same
   * kind of read costs a few reads, and every request is answered as by `run`: within the gate's
   * bound, or `unavailable` with a retry hint for all that waited together. `key` names the kind
   * of work as well (every request of a key is served by the first one's `work`).
   */
  together<I, O>(
    key: string,
    item: I,
    work: (items: I[]) => Promise<(O | Error)[]>,
    max = TOGETHER_MAX,
  ): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const waiter: Waiter = { item, resolve: resolve as (value: unknown) => void, reject };
      this.waitingTogether++;
      const group = this.groups.get(key);
      if (group) {
        group.waiters.push(waiter);
        this.peakWaiting = Math.max(this.peakWaiting, this.waitingCount());
        return;
      }
      this.groups.set(key, {
        waiters: [waiter],
        work: work as (items: unknown[]) => Promise<unknown[]>,
        max,
      });
      void this.carry(key);
    });
  }

  /** One turn at the gate for a key: takes its waiting requests when the turn comes, and answers them. */
  private async carry(key: string): Promise<void> {
    let taken: { waiters: Waiter[]; work: (items: unknown[]) => Promise<unknown[]> } | undefined;
    try {
      const answers = await this.run(() => {
        taken = this.take(key);
        return taken.work(taken.waiters.map((waiter) => waiter.item));
      });
      for (const [i, waiter] of (taken?.waiters ?? []).entries()) {
        const answer = answers[i];
        if (answer instanceof Error) waiter.reject(answer);
        else if (answer === undefined) waiter.reject(new Error("no answer for a request run together"));
        else waiter.resolve(answer);
      }
    } catch (error) {
      // Refused at the gate before its turn (or the work failed): all that waited together hear it.
      for (const waiter of (taken ?? this.take(key)).waiters) waiter.reject(error);
    }
  }

  /** The key's waiting requests, up to its batch size; the rest get a turn of their own. */
  private take(key: string): { waiters: Waiter[]; work: (items: unknown[]) => Promise<unknown[]> } {
    const group = this.groups.get(key);
    if (!group) return { waiters: [], work: async () => [] };
    const waiters = group.waiters.splice(0, group.max);
    this.waitingTogether -= waiters.length;
    if (group.waiters.length === 0) this.groups.delete(key);
    else void this.carry(key);
    return { waiters, work: group.work };
  }

  /**
   * What the gate has done so far: requests refused, and the longest queue it held (requests
   * waiting alone or together with others; a group's turn counts once among those running).
   */
  stats(): { refused: number; peakWaiting: number; waiting: number; running: number } {
    return {
      refused: this.refusedCount,
      peakWaiting: this.peakWaiting,
      waiting: this.waitingCount(),
      running: this.limit.activeCount,
    };
  }

  /** Requests waiting: the gate's queue (a group's turn is one entry there) and everyone in a group. */
  private waitingCount(): number {
    return this.limit.pendingCount + this.waitingTogether;
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
