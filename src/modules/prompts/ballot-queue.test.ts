import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AppError } from "../../errors.ts";
import type { PromptVoteInput } from "../../protocol/prompts.ts";
import type { Actor } from "../seminars/seminars.policy.ts";
import {
  BALLOT_LANES,
  type BallotOutcome,
  BallotQueue,
  laneOf,
  MAX_BALLOTS_PER_GROUP,
  type QueuedBallot,
} from "./ballot-queue.ts";

// The queue alone, with a writer the test controls (the database side is covered through real
// sockets and PostgreSQL in tests/room/votes-groups.test.ts).

const SEMINAR = "seminar-1";

const actor = (memberId: string): Actor => ({ seminarId: SEMINAR, memberId, role: "participant" });
const ballot = (promptId: string, option = "a"): PromptVoteInput => ({
  promptId,
  optionIds: [option],
  clientBallotId: randomUUID(),
});

/** A writer whose calls wait until the test lets them go, recording every group it was given. */
function heldWriter(answer: (ballot: QueuedBallot) => BallotOutcome = acceptAll) {
  const groups: { promptId: string; ballots: QueuedBallot[] }[] = [];
  const gates: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let failNext: unknown;
  const write = async (_seminarId: string, promptId: string, group: readonly QueuedBallot[]) => {
    groups.push({ promptId, ballots: [...group] });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise<void>((resolve) => gates.push(resolve));
    inFlight--;
    if (failNext !== undefined) {
      const error = failNext;
      failNext = undefined;
      throw error;
    }
    return group.map(answer);
  };
  return {
    write,
    groups,
    /** Lets the oldest waiting call finish. */
    next: () => gates.shift()?.(),
    waiting: () => gates.length,
    maxInFlight: () => maxInFlight,
    failWith: (error: unknown) => {
      failNext = error;
    },
  };
}

function acceptAll({ input }: QueuedBallot): BallotOutcome {
  return {
    ok: true,
    ballot: {
      promptId: input.promptId,
      optionIds: input.optionIds,
      clientBallotId: input.clientBallotId,
      revision: 1,
    },
  };
}

const silent = { warn: () => {}, error: () => {} };

/** Lets queued promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("BallotQueue", () => {
  // Most cases look at one lane (lanes: 1); the last ones at several.
  it("writes a lone ballot at once and those arriving meanwhile as one group after it, in order", async () => {
    const writer = heldWriter();
    const sizes: number[] = [];
    const queue = new BallotQueue({
      write: writer.write,
      logger: silent,
      lanes: 1,
      observe: (size) => sizes.push(size),
    });
    const first = queue.submit(actor("m1"), ballot("p"));
    expect(writer.groups).toHaveLength(1);
    const later = ["m2", "m3", "m2", "m4"].map((member, i) => ({
      member,
      input: ballot("p", `o${i}`),
    }));
    const answers = later.map(({ member, input }) => queue.submit(actor(member), input));
    expect(queue.pending()).toBe(5);
    // Nothing more is written while the first group is in flight.
    expect(writer.groups).toHaveLength(1);
    writer.next();
    await first;
    await settle();
    expect(writer.groups).toHaveLength(2);
    expect(writer.groups[1]!.ballots.map((queued) => queued.input)).toEqual(later.map(({ input }) => input));
    writer.next();
    const acks = await Promise.all(answers);
    expect(acks.map((ack) => ack.clientBallotId)).toEqual(later.map(({ input }) => input.clientBallotId));
    expect(sizes).toEqual([1, 4]);
    expect(queue.pending()).toBe(0);
    expect(writer.maxInFlight()).toBe(1);
  });

  it("keeps one group in flight per prompt, and prompts apart from each other", async () => {
    const writer = heldWriter();
    const queue = new BallotQueue({ write: writer.write, logger: silent, lanes: 1 });
    const answers = [
      queue.submit(actor("m1"), ballot("p")),
      queue.submit(actor("m1"), ballot("q")),
      queue.submit(actor("m2"), ballot("p")),
    ];
    expect(writer.groups.map((group) => group.promptId)).toEqual(["p", "q"]);
    expect(writer.maxInFlight()).toBe(2);
    writer.next();
    writer.next();
    await settle();
    expect(writer.groups.map((group) => group.promptId)).toEqual(["p", "q", "p"]);
    writer.next();
    await Promise.all(answers);
  });

  it(`writes at most ${MAX_BALLOTS_PER_GROUP} ballots per group`, async () => {
    const writer = heldWriter();
    const queue = new BallotQueue({ write: writer.write, logger: silent, lanes: 1 });
    const answers = Array.from({ length: MAX_BALLOTS_PER_GROUP + 11 }, (_, i) =>
      queue.submit(actor(`m${i}`), ballot("p")),
    );
    while (writer.waiting() > 0 || queue.pending() > 0) {
      writer.next();
      await settle();
    }
    await Promise.all(answers);
    expect(writer.groups.map((group) => group.ballots.length)).toEqual([1, MAX_BALLOTS_PER_GROUP, 10]);
  });

  it("answers each ballot its own outcome: a refusal does not touch the others", async () => {
    const refusal = new AppError("forbidden", "not a voter");
    const writer = heldWriter((queued) =>
      queued.actor.memberId === "bad" ? { ok: false, error: refusal } : acceptAll(queued),
    );
    const queue = new BallotQueue({ write: writer.write, logger: silent, lanes: 1 });
    const first = queue.submit(actor("first"), ballot("p"));
    const answers = ["good", "bad", "good2"].map((member) =>
      queue.submit(actor(member), ballot("p")).then(
        (view) => ({ ok: true as const, view }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    );
    writer.next();
    await first;
    await settle();
    expect(writer.groups.map((group) => group.ballots.length)).toEqual([1, 3]);
    writer.next();
    const [good, bad, good2] = await Promise.all(answers);
    expect(good!.ok).toBe(true);
    expect(bad).toEqual({ ok: false, error: refusal });
    expect(good2!.ok).toBe(true);
  });

  it("answers every ballot of a failed group unavailable, logs the fault, and goes on with the next group", async () => {
    const writer = heldWriter();
    const logged: string[] = [];
    const queue = new BallotQueue({
      write: writer.write,
      logger: { warn: () => logged.push("warn"), error: () => logged.push("error") },
      lanes: 1,
    });
    const first = queue.submit(actor("m1"), ballot("p"));
    const group = [queue.submit(actor("m2"), ballot("p")), queue.submit(actor("m3"), ballot("p"))];
    writer.next();
    await first;
    await settle();
    writer.failWith(new Error("the disk is gone"));
    const arriving = queue.submit(actor("m4"), ballot("p"));
    writer.next();
    for (const answer of await Promise.allSettled(group)) {
      expect(answer.status).toBe("rejected");
      const error = (answer as PromiseRejectedResult).reason as AppError;
      expect(error).toBeInstanceOf(AppError);
      expect(error.code).toBe("unavailable");
      expect(error.details).toEqual({ retryAfterMs: expect.any(Number) });
    }
    expect(logged).toEqual(["error"]);
    // A ballot that arrived during the failed group is written next, as usual.
    await settle();
    writer.next();
    expect((await arriving).promptId).toBe("p");
    // A typed refusal of the whole group passes through unchanged.
    const refused = queue.submit(actor("m5"), ballot("p"));
    writer.failWith(new AppError("not_found", "Prompt not found."));
    await settle();
    writer.next();
    await expect(refused).rejects.toMatchObject({ code: "not_found" });
  });

  it(`writes ${BALLOT_LANES} groups of a prompt side by side by default, each member always in one lane and in order`, async () => {
    const writer = heldWriter();
    const queue = new BallotQueue({ write: writer.write, logger: silent });
    const members = Array.from({ length: 40 }, () => randomUUID());
    const byLane = new Map<number, string[]>();
    for (const member of members) {
      const lane = laneOf(member, BALLOT_LANES);
      byLane.set(lane, [...(byLane.get(lane) ?? []), member]);
    }
    // Forty random members cover every lane.
    expect(byLane.size).toBe(BALLOT_LANES);
    const [a, b] = [byLane.get(0)![0]!, byLane.get(1)![0]!];
    const firstOfA = ballot("p", "a1");
    const secondOfA = ballot("p", "a2");
    const answers = [
      queue.submit(actor(a), firstOfA),
      queue.submit(actor(b), ballot("p")),
      queue.submit(actor(a), secondOfA),
    ];
    // One group per lane at once; A's second ballot waits behind A's first.
    expect(writer.groups).toHaveLength(2);
    expect(writer.maxInFlight()).toBe(2);
    while (writer.waiting() > 0 || queue.pending() > 0) {
      writer.next();
      await settle();
    }
    await Promise.all(answers);
    const ofA = writer.groups.flatMap((group) =>
      group.ballots.filter((queued) => queued.actor.memberId === a).map((queued) => queued.input),
    );
    expect(ofA).toEqual([firstOfA, secondOfA]);
  });

  it("says a prompt is settled once, when no lane has a ballot of it queued or being written", async () => {
    const writer = heldWriter();
    const settled: string[] = [];
    const queue = new BallotQueue({
      write: writer.write,
      logger: silent,
      settled: (seminarId, promptId) => settled.push(`${seminarId}:${promptId}`),
    });
    const members = Array.from({ length: 40 }, () => randomUUID());
    const [a, b] = [0, 1].map((lane) => members.find((member) => laneOf(member, BALLOT_LANES) === lane)!);
    const answers = [
      queue.submit(actor(a!), ballot("p")),
      queue.submit(actor(b!), ballot("p")),
      queue.submit(actor(a!), ballot("p")),
      queue.submit(actor(a!), ballot("q")),
    ];
    // A's lane writes its first group, B's lane its own, and q its own.
    expect(writer.groups.map((group) => group.promptId)).toEqual(["p", "p", "q"]);
    writer.next(); // A's first group of p: A's second ballot follows, p is not settled.
    await settle();
    expect(settled).toEqual([]);
    writer.next(); // B's group of p: A's lane still writes.
    await settle();
    expect(settled).toEqual([]);
    writer.next(); // q's group: q settles.
    await settle();
    expect(settled).toEqual([`${SEMINAR}:q`]);
    writer.next(); // A's second group of p: now p settles, once.
    await settle();
    await Promise.all(answers);
    expect(settled).toEqual([`${SEMINAR}:q`, `${SEMINAR}:p`]);
    // A failed group settles too: nothing of the prompt is left to write.
    writer.failWith(new Error("connection lost"));
    const failed = queue.submit(actor(a!), ballot("p"));
    writer.next();
    await expect(failed).rejects.toMatchObject({ code: "unavailable" });
    await settle();
    expect(settled).toEqual([`${SEMINAR}:q`, `${SEMINAR}:p`, `${SEMINAR}:p`]);
  });

  it("puts a member in the same lane every time, and one lane is all lanes of one", () => {
    const member = randomUUID();
    expect(new Set(Array.from({ length: 10 }, () => laneOf(member, 4))).size).toBe(1);
    expect(laneOf(member, 1)).toBe(0);
  });
});
