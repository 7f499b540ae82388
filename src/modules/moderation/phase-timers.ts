import type { PrismaClient } from "../../db/client.ts";
import type { Logger } from "../../logger.ts";
import type { RoomWriter } from "../../realtime/room-writer.ts";
import { endDuePhase, listPhaseDeadlines } from "./moderation.service.ts";

/** How often each node looks in the database for phase deadlines coming up (ms). */
const SWEEP_MS = 15_000;

/** Retries of an announcement that failed (the database was away), with doubling waits. */
const MAX_ATTEMPTS = 5;

/**
 * Announces phase deadlines. The deadline is stored with the phase, so no timer is the record:
 * the node that started a phase arms a timer for it at once, and every node sweeps the database
 * at start and every 15 s for deadlines due before the next sweep, arming timers for them. So a
 * deadline is announced after a restart, and when the node that armed it is gone. Several nodes
 * may fire for the same phase: endDuePhase announces it once (under the room's lock).
 */
export class PhaseTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly rooms: RoomWriter,
    private readonly logger: Logger,
  ) {}

  /** Sweeps now (re-arming what a restart forgot) and then every SWEEP_MS. */
  start(): void {
    void this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Announces `phaseId`'s end at `deadline` (at once if it has passed); arming twice is one timer. */
  arm(seminarId: string, phaseId: string, deadline: Date, attempt = 0): void {
    if (this.closed || this.timers.has(phaseId)) return;
    const timer = setTimeout(
      () => void this.fire(seminarId, phaseId, deadline, attempt),
      Math.max(0, deadline.getTime() - Date.now()),
    );
    timer.unref();
    this.timers.set(phaseId, timer);
  }

  /** Forgets every timer (at shutdown; the database keeps the deadlines). */
  close(): void {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async fire(seminarId: string, phaseId: string, _deadline: Date, attempt: number): Promise<void> {
    this.timers.delete(phaseId);
    if (this.closed) return;
    try {
      await endDuePhase(this.rooms, seminarId, phaseId);
    } catch (error) {
      this.logger.warn(
        { err: error, seminar: seminarId, phase: phaseId },
        "announcing a phase deadline failed",
      );
      if (attempt + 1 < MAX_ATTEMPTS) {
        this.arm(seminarId, phaseId, new Date(Date.now() + 1_000 * 2 ** attempt), attempt + 1);
      }
    }
  }

  private async sweep(): Promise<void> {
    if (this.closed) return;
    try {
      const due = await listPhaseDeadlines(this.prisma, new Date(Date.now() + SWEEP_MS));
      for (const { seminarId, phaseId, deadline } of due) this.arm(seminarId, phaseId, deadline);
    } catch (error) {
      this.logger.warn({ err: error }, "reading phase deadlines failed");
    }
  }
}
