import { AppError, isDatabaseUnavailable, UNAVAILABLE_RETRY_AFTER_MS } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { PromptVoteInput } from "../../protocol/prompts.ts";
import type { BallotView } from "../../protocol/views.ts";
import type { Actor } from "../seminars/seminars.policy.ts";

/**
 * The most ballots written by one call (one transaction); more wait for the next group. The
 * ballots go as arrays (a handful of parameters however many), so the bound is how long one
 * transaction holds its rows: at 256, a hall of 5,000 voting at once was written as 20 groups one
 * after another (final tally 2.1-3.4 s after the last ballot); at 1,024, five or six.
 */
export const MAX_BALLOTS_PER_GROUP = 1024;

/**
 * Groups of one prompt a node writes side by side, each for its own share of the voters (a member
 * always in the same lane, so their ballots stay in order). With one, a lecture hall's burst was
 * written one group after another and the event loop waited for each commit; groups of other
 * nodes already run side by side, on rows of other members, so the database takes them as it is.
 */
export const BALLOT_LANES = 2;

/** One ballot waiting for its group. */
export interface QueuedBallot {
  /** The voter, as their connection was admitted. */
  actor: Actor;
  /** The parsed ballot. */
  input: PromptVoteInput;
}

/** What became of one ballot of a group: stored (or a retry answered), or refused on its own. */
export type BallotOutcome = { ok: true; ballot: BallotView } | { ok: false; error: AppError };

/**
 * Writes one group of ballots for one prompt of one seminar, in one transaction, and answers one
 * outcome per ballot, in the order given. Throws when the group as a whole failed (the database):
 * then nothing of it may have been stored.
 */
export type WriteBallotGroup = (
  seminarId: string,
  promptId: string,
  group: readonly QueuedBallot[],
) => Promise<BallotOutcome[]>;

/** How the queue is built. */
export interface BallotQueueOptions {
  /** Writes a group (prompts.service.ts castBallotGroup). */
  write: WriteBallotGroup;
  /** Where failed groups are reported. */
  logger: Pick<Logger, "warn" | "error">;
  /** Told the size of every group written (the ballot group-size metric). */
  observe?: (size: number) => void;
  /** Groups per prompt written side by side (BALLOT_LANES by default). */
  lanes?: number;
  /** Told when no ballot of a prompt is queued or being written on this node any more. */
  settled?: (seminarId: string, promptId: string) => void;
}

interface Waiting extends QueuedBallot {
  resolve: (ballot: BallotView) => void;
  reject: (error: AppError) => void;
}

/**
 * Group commit for ballots. Ballots for the same prompt of the same seminar are queued in arrival
 * order; while one group of them is being written, those that arrive wait, and are written
 * together as the next group once it commits (up to MAX_BALLOTS_PER_GROUP per call). A lone
 * ballot is written at once; in a burst, one transaction and one commit carry every ballot that
 * came in while the previous one ran, instead of one each. Each ballot's promise settles only
 * after the commit that stores it (durable before the ack). One group per prompt is in flight on
 * a node per lane (BALLOT_LANES; a member's ballots always go through the same lane), so a
 * member's ballots are applied in the order they arrived. A group that fails as a
 * whole answers each of its ballots `unavailable` with a retry hint (a retry with the same
 * clientBallotId is safe), never `internal`.
 */
export class BallotQueue {
  private readonly queues = new Map<string, Waiting[]>();
  /** Lanes of each prompt ("seminarId:promptId") with a queue being written. */
  private readonly busyLanes = new Map<string, number>();
  /** Ballots submitted and not yet answered. */
  private unanswered = 0;
  private readonly lanes: number;

  constructor(private readonly options: BallotQueueOptions) {
    this.lanes = options.lanes ?? BALLOT_LANES;
  }

  /** Queues the actor's ballot; resolves with the stored ballot after its group committed. */
  submit(actor: Actor, input: PromptVoteInput): Promise<BallotView> {
    const key = `${actor.seminarId}:${input.promptId}:${laneOf(actor.memberId, this.lanes)}`;
    this.unanswered++;
    return new Promise<BallotView>((resolve, reject) => {
      const waiting: Waiting = { actor, input, resolve, reject };
      const queue = this.queues.get(key);
      if (queue) {
        queue.push(waiting);
        return;
      }
      // No group of this prompt in flight: this ballot starts one now.
      const started: Waiting[] = [waiting];
      this.queues.set(key, started);
      const prompt = `${actor.seminarId}:${input.promptId}`;
      this.busyLanes.set(prompt, (this.busyLanes.get(prompt) ?? 0) + 1);
      void this.drain(key, actor.seminarId, input.promptId, started);
    });
  }

  /** Ballots waiting for their group or being written, over every prompt. */
  pending(): number {
    return this.unanswered;
  }

  /**
   * Writes the queue of `key` group by group until it is empty. The queue array stays in the map
   * while this runs (a ballot arriving meanwhile joins it); the group being written is taken off
   * its front first, so what remains is exactly what arrived after.
   */
  private async drain(key: string, seminarId: string, promptId: string, queue: Waiting[]): Promise<void> {
    while (queue.length > 0) {
      const group = queue.splice(0, MAX_BALLOTS_PER_GROUP);
      this.options.observe?.(group.length);
      await this.writeGroup(seminarId, promptId, group);
    }
    this.queues.delete(key);
    const prompt = `${seminarId}:${promptId}`;
    const busy = (this.busyLanes.get(prompt) ?? 1) - 1;
    if (busy > 0) {
      this.busyLanes.set(prompt, busy);
      return;
    }
    this.busyLanes.delete(prompt);
    this.options.settled?.(seminarId, promptId);
  }

  private async writeGroup(seminarId: string, promptId: string, group: Waiting[]): Promise<void> {
    let outcomes: BallotOutcome[] | null = null;
    let failure: unknown;
    try {
      outcomes = await this.options.write(seminarId, promptId, group);
    } catch (error) {
      failure = error;
    }
    this.unanswered -= group.length;
    if (!outcomes) {
      const answer = this.groupFailure(failure, promptId, group.length);
      for (const waiting of group) waiting.reject(answer);
      return;
    }
    group.forEach((waiting, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) waiting.resolve(outcome.ballot);
      else waiting.reject(outcome?.error ?? this.groupFailure(undefined, promptId, group.length));
    });
  }

  /**
   * What every ballot of a failed group is told. A typed refusal of the whole group (every
   * ballot refused for the same reason) passes through; anything else failed in the database or
   * on its way there, stored nothing, and is answered retryable.
   */
  private groupFailure(error: unknown, promptId: string, size: number): AppError {
    if (error instanceof AppError) return error;
    const context = { err: error, prompt: promptId, ballots: size };
    // A lost or refusing database is expected to happen: a warning. Anything else is a fault.
    if (error !== undefined && isDatabaseUnavailable(error))
      this.options.logger.warn(context, "ballot group failed");
    else this.options.logger.error(context, "ballot group failed");
    return new AppError("unavailable", "Your ballot was not stored; send it again.", {
      retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS,
    });
  }
}

/** A member's lane: the same for every ballot of theirs (member ids are random UUIDs: even spread). */
export function laneOf(memberId: string, lanes: number): number {
  if (lanes <= 1) return 0;
  let hash = 0;
  for (let i = 0; i < memberId.length; i++) hash = (hash * 31 + memberId.charCodeAt(i)) >>> 0;
  return hash % lanes;
}
