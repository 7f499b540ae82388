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

/** At most this many turns of one key run at once (the others' requests wait to go together). */
const TOGETHER_IN_FLIGHT = 2;

/** The requests of one key (see Admission.together). */
interface Group {
  waiters: Waiter[];
  work: (items: unknown[]) => Promise<unknown[]>;
  max: number;
  /** A turn of the key waits at the gate. */
  queued: boolean;
  /** Turns of the key running now. */
  running: number;
  /** See TogetherOptions.spacingMs. */
  spacingMs: number;
  /** When the key's last turn took its requests (performance.now()). */
  lastTakenAt: number;
  /** The next turn's start, held back for spacingMs after the last one. */
  spacing: NodeJS.Timeout | undefined;
}

/** How the requests of one key go together (see Admission.together). */
export interface TogetherOptions {
  /** At most this many requests a turn (TOGETHER_MAX by default). */
  max?: number;
  /**
   * A turn starts at least this long (ms) after the key's previous turn took its requests, unless
   * `max` requests wait already: a key in demand is served in turns of many instead of one turn
   * per arrival, each paying a statement or a transaction for one or two requests. A request
   * arriving for a key not asked for within this time is served at once (0, the default: every
   * turn starts as soon as it may).
   */
  spacingMs?: number;
}

/** A request waiting to run together with others. */
interface Waiter {
  item: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Refuses the request if no turn has taken it within maxWaitMs. */
  timer: NodeJS.Timeout;
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
  private readonly groups = new Map<string, Group>();
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
   * Runs `item` together with the other requests of the same `key`: a key has at most
   * TOGETHER_IN_FLIGHT turns running and one waiting at the gate, and requests that arrive
   * meanwhile wait with the waiting turn (up to `max`; the rest take the next one). When a turn
   * comes, `work` gets its requests and answers each, in their order, with a result or an Error.
   * So a crowd asking for the same kind of read costs a few reads (group commit, for reads), and
   * each request is answered as by `run`: once its turn ran, or `unavailable` with a retry hint
   * when the turn it waited with did not come in time. `key` names the kind of work as well: every
   * request of a key is served by the `work` of the request that opened the key.
   */
  together<I, O>(
    key: string,
    item: I,
    work: (items: I[]) => Promise<(O | Error)[]>,
    options: TogetherOptions = {},
  ): Promise<O> {
    const max = options.max ?? TOGETHER_MAX;
    const spacingMs = options.spacingMs ?? 0;
    const waiting = this.groups.get(key)?.waiters.length ?? 0;
    if (this.expectedTogetherWaitMs(waiting, max, spacingMs) > this.options.maxWaitMs)
      return Promise.reject(this.refuse(0));
    return new Promise<O>((resolve, reject) => {
      let group = this.groups.get(key);
      if (!group) {
        group = {
          waiters: [],
          work: work as (items: unknown[]) => Promise<unknown[]>,
          max,
          queued: false,
          running: 0,
          spacingMs,
          lastTakenAt: Number.NEGATIVE_INFINITY,
          spacing: undefined,
        };
        this.groups.set(key, group);
      }
      const waiters = group.waiters;
      const waiter: Waiter = {
        item,
        resolve: resolve as (value: unknown) => void,
        reject,
        // Still waiting with its group when the time is up (the turns ahead were slow): refused,
        // as a request waiting alone at the gate is, and never run.
        timer: setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index < 0) return;
          waiters.splice(index, 1);
          this.waitingTogether--;
          reject(this.refuse(this.options.maxWaitMs));
          this.queueTurn(key);
        }, this.options.maxWaitMs),
      };
      waiters.push(waiter);
      this.waitingTogether++;
      this.peakWaiting = Math.max(this.peakWaiting, this.waitingCount());
      this.queueTurn(key);
    });
  }

  /**
   * Sends a key's next turn to the gate, unless one waits there already, enough are running or the
   * turn is held back for the key's spacing (a timer sends it then).
   */
  private queueTurn(key: string): void {
    const group = this.groups.get(key);
    if (!group) return;
    if (group.spacing) {
      // Held back: until the spacing is over, or a whole turn's worth is waiting.
      if (group.waiters.length < group.max) return;
      clearTimeout(group.spacing);
      group.spacing = undefined;
    }
    const heldFor = group.lastTakenAt + group.spacingMs - performance.now();
    if (group.waiters.length === 0 && group.running === 0 && !group.queued) {
      // Kept until its spacing is over, so that the next arrival still waits for it.
      if (heldFor > 0) this.holdTurn(key, group, heldFor);
      else this.groups.delete(key);
      return;
    }
    if (group.queued || group.waiters.length === 0 || group.running >= TOGETHER_IN_FLIGHT) return;
    if (heldFor > 0 && group.waiters.length < group.max) {
      this.holdTurn(key, group, heldFor);
      return;
    }
    group.queued = true;
    void this.turn(key, group);
  }

  /** Looks at the key again in `ms` (its spacing is over then). */
  private holdTurn(key: string, group: Group, ms: number): void {
    group.spacing = setTimeout(() => {
      group.spacing = undefined;
      this.queueTurn(key);
    }, ms);
    // Waiting requests keep the process alive by their own timers; a held key alone does not.
    group.spacing.unref();
  }

  /** One turn of a key at the gate: when it comes, takes the waiting requests and answers them. */
  private async turn(key: string, group: Group): Promise<void> {
    let taken: Waiter[] | undefined;
    try {
      const answers = await this.run(() => {
        group.queued = false;
        group.running++;
        group.lastTakenAt = performance.now();
        taken = this.takeWaiting(group);
        // Those left over (beyond max) queue the next turn now.
        this.queueTurn(key);
        return group.work(taken.map((waiter) => waiter.item));
      });
      for (const [i, waiter] of (taken ?? []).entries()) {
        const answer = answers[i];
        if (answer instanceof Error) waiter.reject(answer);
        else if (answer === undefined) waiter.reject(new Error("no answer for a request run together"));
        else waiter.resolve(answer);
      }
    } catch (error) {
      // Refused at the gate before its turn came (or the work failed): all that waited with it
      // hear it; those who arrive later queue a turn of their own.
      if (!taken) group.queued = false;
      for (const waiter of taken ?? this.takeWaiting(group)) waiter.reject(error);
    } finally {
      if (taken) group.running--;
      this.queueTurn(key);
    }
  }

  /** A group's waiting requests, up to its batch size. */
  private takeWaiting(group: Group): Waiter[] {
    const taken = group.waiters.splice(0, group.max);
    this.waitingTogether -= taken.length;
    for (const waiter of taken) clearTimeout(waiter.timer);
    return taken;
  }

  /**
   * What the gate has done so far: requests refused, and the longest queue it held (requests
   * waiting alone or together with others; a group's turn counts once among those running), and
   * the keys with requests waiting or running together (`groups`, zero once all are answered).
   */
  stats(): { refused: number; peakWaiting: number; waiting: number; running: number; groups: number } {
    return {
      refused: this.refusedCount,
      peakWaiting: this.peakWaiting,
      waiting: this.waitingCount(),
      running: this.limit.activeCount,
      groups: this.groups.size,
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

  /**
   * How long a request joining `waiting` others of a key would wait (ms): the turns ahead of it,
   * TOGETHER_IN_FLIGHT at a time, each about as long as a request holds its slot (and at least the
   * key's spacing apart), after the gate's own queue.
   */
  private expectedTogetherWaitMs(waiting: number, max: number, spacingMs: number): number {
    const turnsAhead = Math.floor(waiting / max);
    const turnMs = Math.max(this.meanServiceMs / TOGETHER_IN_FLIGHT, spacingMs);
    return turnsAhead * turnMs + this.expectedWaitMs();
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
