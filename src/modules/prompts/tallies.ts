import { LRUCache } from "lru-cache";
import type { AppContext } from "../../context.ts";
import type { Logger } from "../../logger.ts";
import { audienceIntervalMs, LIMITS } from "../../protocol/limits.ts";
import type { TallyView } from "../../protocol/views.ts";
import type { Realtime } from "../../realtime/server.ts";
import { isVisibleToParticipants } from "./prompts.policy.ts";
import { presentTally } from "./prompts.presenter.ts";
import { recordTally, type TallyReading, type TallySink } from "./prompts.service.ts";

/** Prompts whose last sent tally is remembered (to skip resending an unchanged one). */
const MAX_REMEMBERED = 10_000;

/** Where tallies go: the whole room, its moderators, or everyone but the moderators. */
export interface TallyAudiences {
  /** How many sockets of this node are in the seminar's room (what one update to everyone costs). */
  size(seminarId: string): number;
  /** Every socket in the seminar's room. */
  everyone(seminarId: string, tally: TallyView): void;
  /** The seminar's moderators only. */
  moderators(seminarId: string, tally: TallyView): void;
  /** Participants and observers (not moderators). */
  participants(seminarId: string, tally: TallyView): void;
}

/** What the coalescer is built from (the database side is injected so it can be tested alone). */
export interface TallyCoalescerOptions {
  /**
   * Reads a prompt's version, counts and facts consistently and keeps that version in the
   * prompt's history (a version already stored is left as it is); null when the prompt is gone.
   */
  read: (promptId: string) => Promise<TallyReading | null>;
  /** Sends tallies to sockets. */
  audiences: TallyAudiences;
  /** Where failed flushes are reported. */
  logger: Pick<Logger, "warn">;
  /** How often dirty prompts are flushed (ms); LIMITS.tallyFlushMs by default. */
  flushMs?: number;
  /** The longest wait between running tallies during a burst (ms); LIMITS.tallyBurstMaxMs by default. */
  burstMaxMs?: number;
}

/**
 * Coalesces tally updates per prompt. Every stored ballot marks its prompt dirty; a timer
 * (started on first use, unref'd) recomputes each dirty prompt's tally from the database once per
 * interval, keeps it in the history and sends it, so a burst of hundreds of ballots costs a few
 * messages per client and every message agrees with what is stored. A close or a reveal sends at
 * once. Flushes of one prompt never overlap, so versions go out in increasing order.
 *
 * The ballot queue says when a prompt's ballots are all written (`settled`): its tally then goes
 * out at once (at most one interval after the previous one), so the final count of a burst
 * reaches the room as soon as it is stored. While ballots are still being written, a large room
 * gets the running tally less often (burstIntervalMs).
 */
export class TallyCoalescer implements TallySink {
  private readonly dirty = new Map<string, string>();
  private readonly running = new Map<string, Promise<void>>();
  /** The last tally sent per prompt (bounded: the least recently sent are forgotten first). */
  private readonly lastSent = new LRUCache<string, { version: number; participants: boolean; at: number }>({
    max: MAX_REMEMBERED,
  });
  /** Prompts with ballots still being written on this node (changed, and not settled since). */
  private readonly unsettled = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly flushMs: number;
  private readonly burstMaxMs: number;

  constructor(private readonly options: TallyCoalescerOptions) {
    this.flushMs = options.flushMs ?? LIMITS.tallyFlushMs;
    this.burstMaxMs = options.burstMaxMs ?? LIMITS.tallyBurstMaxMs;
  }

  /** A ballot of `promptId` was stored: its tally goes out with the next flush. */
  changed(seminarId: string, promptId: string): void {
    if (this.stopped) return;
    this.dirty.set(promptId, seminarId);
    this.unsettled.add(promptId);
    this.schedule();
  }

  /**
   * Every ballot of `promptId` queued on this node is written: its tally goes out now, or when an
   * interval has passed since the last one went out.
   */
  settled(_seminarId: string, promptId: string): void {
    this.unsettled.delete(promptId);
    if (this.stopped || !this.dirty.has(promptId) || this.running.has(promptId)) return;
    const last = this.lastSent.get(promptId);
    if (!last || Date.now() - last.at >= this.flushMs) void this.enqueue(promptId, false);
  }

  /** Sends `promptId`'s tally now (even at an unchanged version: its audience may have grown). */
  async sendNow(_seminarId: string, promptId: string): Promise<void> {
    if (this.stopped) return;
    await this.enqueue(promptId, true);
  }

  /** Flushes every dirty prompt now (the timer calls this). */
  async flush(): Promise<void> {
    const now = Date.now();
    const pending = [...this.dirty].filter(
      ([promptId, seminarId]) => !this.running.has(promptId) && this.due(promptId, seminarId, now),
    );
    // Prompts left for a later interval keep the timer going.
    if (pending.length < this.dirty.size) this.schedule();
    await Promise.all(pending.map(([promptId]) => this.enqueue(promptId, false)));
  }

  /**
   * How long a large room waits between running tallies while its ballots are being written (a
   * tally to a lecture hall is thousands of socket writes; sent every interval during a burst they
   * took the event loop from the ballots): LIMITS.tallyBurstPerSocketMs per socket, between the
   * usual interval and the burst maximum.
   */
  burstIntervalMs(seminarId: string): number {
    const size = this.options.audiences.size(seminarId);
    return audienceIntervalMs(this.flushMs, size, LIMITS.tallyBurstPerSocketMs, this.burstMaxMs);
  }

  /** Whether a dirty prompt's tally goes out in this interval. */
  private due(promptId: string, seminarId: string, now: number): boolean {
    const last = this.lastSent.get(promptId);
    if (!last || !this.unsettled.has(promptId)) return true;
    // A room small enough for the usual interval keeps it (the timer already paces it).
    const interval = this.burstIntervalMs(seminarId);
    return interval <= this.flushMs || now - last.at >= interval;
  }

  /**
   * Stops the timer; with `flush` (the default) sends what is still dirty first. Waits for
   * flushes in progress, so nothing touches the database after it resolves.
   */
  async stop(options: { flush?: boolean } = {}): Promise<void> {
    if (this.stopped) {
      await Promise.all(this.running.values());
      return;
    }
    if (options.flush ?? true) await this.flush();
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty.clear();
    this.unsettled.clear();
    await Promise.all(this.running.values());
  }

  private schedule(): void {
    if (this.timer || this.stopped || this.dirty.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushMs);
    // Pending tallies never keep the process alive.
    this.timer.unref();
  }

  /** Runs a flush of `promptId` after the one in progress, if any. */
  private enqueue(promptId: string, force: boolean): Promise<void> {
    const previous = this.running.get(promptId) ?? Promise.resolve();
    const next = previous.then(() => this.flushPrompt(promptId, force));
    this.running.set(promptId, next);
    return next.finally(() => {
      if (this.running.get(promptId) === next) this.running.delete(promptId);
      // Ballots stored while this flush ran are still dirty: schedule the next interval.
      this.schedule();
    });
  }

  private async flushPrompt(promptId: string, force: boolean): Promise<void> {
    if (this.stopped) return;
    // Clear the mark before reading: a ballot committed after this point marks it again, and one
    // committed before is in the read below, so no stored ballot is left out of every tally.
    this.dirty.delete(promptId);
    try {
      const reading = await this.options.read(promptId);
      if (!reading) {
        this.lastSent.delete(promptId);
        return;
      }
      const { seminarId, facts, tally } = reading;
      const participants = isVisibleToParticipants(facts);
      const last = this.lastSent.get(promptId);
      if (!force && last && last.version >= tally.version && last.participants === participants) return;
      // Most recently sent last; the oldest entries go once the map is large (a long-lived node).
      this.lastSent.set(promptId, { version: tally.version, participants, at: Date.now() });
      const { audiences } = this.options;
      // Moderators always see counts; voters only on named prompts. Participants never get voters.
      const forModerators = presentTally(tally, { withVoters: !facts.anonymous });
      if (!participants) {
        audiences.moderators(seminarId, forModerators);
      } else if (forModerators.voters === undefined) {
        audiences.everyone(seminarId, forModerators);
      } else {
        audiences.moderators(seminarId, forModerators);
        audiences.participants(seminarId, presentTally(tally, { withVoters: false }));
      }
    } catch (error) {
      // The next ballot marks the prompt again; a snapshot or room:sync also carries the tally.
      this.options.logger.warn({ err: error, prompt: promptId }, "tally flush failed");
    }
  }
}

/**
 * The realtime audiences. Realtime.publishTally knows `everyone` and `moderators`; named prompts
 * also need "everyone but moderators" (participants must not receive voters), sent to the
 * participants room here.
 */
export function tallyAudiences(realtime: Realtime): TallyAudiences {
  return {
    size: (seminarId) => realtime.notifier.audienceSize(seminarId),
    everyone: (seminarId, tally) => realtime.notifier.publishTally(seminarId, "everyone", tally),
    moderators: (seminarId, tally) => realtime.notifier.publishTally(seminarId, "moderators", tally),
    participants: (seminarId, tally) => realtime.notifier.publishTally(seminarId, "participants", tally),
  };
}

const coalescers = new WeakMap<Realtime, TallyCoalescer>();

/**
 * The application's tally coalescer (one per Realtime), created on first use. As a safety net it
 * stops when the HTTP server closes; Application.close() should `await stopTallies(realtime)`
 * before closing the realtime layer, so the last tallies are sent and stored first.
 */
export function talliesFor(context: AppContext, realtime: Realtime): TallyCoalescer {
  let coalescer = coalescers.get(realtime);
  if (!coalescer) {
    const created = new TallyCoalescer({
      read: (promptId) => recordTally(context.prisma, promptId),
      audiences: tallyAudiences(realtime),
      logger: context.logger,
    });
    realtime.io.httpServer?.once("close", () => void created.stop({ flush: false }));
    coalescers.set(realtime, created);
    coalescer = created;
  }
  return coalescer;
}

/** Stops the tally coalescer of `realtime` (if it was ever started): sends what is pending, then stops. */
export async function stopTallies(realtime: Realtime): Promise<void> {
  await coalescers.get(realtime)?.stop();
}
