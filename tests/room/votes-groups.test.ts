import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { promptDeps } from "../../src/modules/prompts/prompts.handlers.ts";
import type { Result } from "../../src/protocol/result.ts";
import type { BallotView, TallyView } from "../../src/protocol/views.ts";
import { holdLock } from "../helpers/database.ts";
import { buildSeminar, expectOk } from "../helpers/factories.ts";
import { eventually, RoomClient, startTestServer } from "../helpers/server.ts";

// Ballots of one prompt are committed in groups (src/modules/prompts/ballot-queue.ts): those that
// arrive while a group is being written go together in the next transaction. These tests make the
// groups happen on purpose: a transaction of the test holds the prompt's row lock (as a close
// does), so the first ballot's group waits in the database and every ballot sent meanwhile queues
// behind it; releasing the lock lets the first group commit and the queued ones go as one group.

// Group formation within one lane: the node writes one group of a prompt at a time here (the
// default, two side by side for different members, is covered by ballot-queue.test.ts and every
// other vote test).
const server = await startTestServer({ BALLOT_LANES: "1" });

const THREE = {
  kind: "single_choice",
  question: "Which reading comes first?",
  options: ["A", "B", "C"],
  anonymous: true,
  resultsVisibility: "live",
};

/** The node's ballot queue (one per Realtime). */
const queue = () => promptDeps(server.app.context, server.app.realtime).ballots;

/** Participants created directly (the join route is rate-limited per IP), in the room. */
async function addVoters(seminarId: string, count: number, role: "participant" | "observer" = "participant") {
  const rows = await server.prisma.membership.createManyAndReturn({
    data: Array.from({ length: count }, (_, i) => ({
      seminarId,
      role,
      displayName: `${role} ${i} ${randomUUID().slice(0, 6)}`,
    })),
    select: { id: true },
  });
  return Promise.all(
    rows.map(async (row) => {
      const token = server.app.context.tokens.issue({
        kind: "guest",
        sub: row.id,
        sem: seminarId,
        rv: 0,
      }).token;
      return { memberId: row.id, client: await RoomClient.join(server.url, { token }) };
    }),
  );
}

/** A live seminar with one open prompt, its host in the room and `count` voters. */
async function openRoom(count: number) {
  const { seminar, moderator } = await buildSeminar(server, { prompts: [THREE] });
  const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
  const prompt = host.stream.state!.prompts[0]!;
  expectOk(await host.send("prompt:open", { promptId: prompt.id }));
  const voters = await addVoters(seminar.id, count);
  const options = prompt.options.map((option) => option.id);
  const close = () => {
    host.close();
    for (const voter of voters) voter.client.close();
  };
  return { seminar, host, prompt, options, voters, close };
}

/**
 * Holds the prompt's row lock (FOR NO KEY UPDATE, as a close takes it) in a transaction of the
 * test until the returned function is called, which resolves once that transaction ended.
 */
function holdPrompt(promptId: string): Promise<() => Promise<void>> {
  return holdLock(
    server.prisma,
    (tx) => tx.$queryRaw`SELECT 1 FROM prompts WHERE id = ${promptId}::uuid FOR NO KEY UPDATE`,
  );
}

/** Resolves once a group write of the application waits for a lock in the database. */
function groupBlocked(): Promise<void> {
  return eventually(
    async () => {
      const [row] = await server.prisma.$queryRaw<{ waiting: number }[]>`
        SELECT count(*)::int AS waiting FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
          AND query LIKE '%stepstone_cast_ballots%'`;
      return (row?.waiting ?? 0) > 0;
    },
    10_000,
    "the first group to wait for the prompt lock",
  );
}

/** Group sizes written so far (the ballot group-size histogram: count of groups, sum of ballots). */
async function groupStats(): Promise<{ groups: number; ballots: number }> {
  const metric = await server.app.context.metrics.ballotGroups.get();
  const count = metric.values.find((value) => value.metricName === "stepstone_ballot_group_size_count");
  const sum = metric.values.find((value) => value.metricName === "stepstone_ballot_group_size_sum");
  return { groups: count?.value ?? 0, ballots: sum?.value ?? 0 };
}

/** What the database holds for a prompt: each member's ballot with its choices, counts, version. */
async function stored(promptId: string, options: string[]) {
  const rows = await server.prisma.ballot.findMany({ where: { promptId }, include: { choices: true } });
  const counts: Record<string, number> = Object.fromEntries(options.map((id) => [id, 0]));
  for (const row of rows) for (const choice of row.choices) counts[choice.optionId]! += 1;
  const byMember = new Map(rows.map((row) => [row.memberId, row]));
  return { rows, byMember, counts, version: rows.reduce((sum, row) => sum + row.revision, 0) };
}

const lastTally = (client: RoomClient, promptId: string): TallyView | undefined =>
  client.stream.state?.tallies.find((tally) => tally.promptId === promptId);

/** Sends a ballot and records when its ack arrived. */
function vote(client: RoomClient, promptId: string, optionIds: string[], clientBallotId = randomUUID()) {
  const sent = {
    clientBallotId,
    optionIds,
    answered: false,
    ack: undefined as Result<BallotView> | undefined,
  };
  const answer = client.send("prompt:vote", { promptId, optionIds, clientBallotId }).then((ack) => {
    sent.answered = true;
    sent.ack = ack;
    return ack;
  });
  return Object.assign(sent, { answer });
}

describe("ballots committed in groups", () => {
  it("stores every acknowledged ballot of a burst exactly once, a member's later ballot last, in few transactions", {
    timeout: 120_000,
  }, async () => {
    const { host, prompt, options, voters, close } = await openRoom(40);
    const before = await groupStats();
    const release = await holdPrompt(prompt.id);
    // The first ballot's group waits for the lock in the database...
    const first = vote(voters[0]!.client, prompt.id, [options[0]!]);
    await groupBlocked();
    // ...while everyone else votes, and every fourth voter changes their mind at once (two
    // ballots from one socket, sent back to back).
    const sent = [
      { voter: voters[0]!, ballots: [first] },
      ...voters.slice(1).map((voter, i) => {
        const one = vote(voter.client, prompt.id, [options[i % 3]!]);
        return {
          voter,
          ballots: i % 4 === 0 ? [one, vote(voter.client, prompt.id, [options[(i + 1) % 3]!])] : [one],
        };
      }),
    ];
    const all = sent.flatMap(({ ballots }) => ballots);
    await eventually(() => queue().pending() === all.length, 10_000, "every ballot queued");
    // Nothing is acknowledged before the commit that stores it.
    expect(all.some((ballot) => ballot.answered)).toBe(false);
    await release();
    await Promise.all(all.map((ballot) => ballot.answer));

    // Two transactions for the whole burst: the first ballot alone, then all the others.
    const after = await groupStats();
    expect(after.groups - before.groups).toBe(2);
    expect(after.ballots - before.ballots).toBe(all.length);

    const db = await stored(prompt.id, options);
    expect(db.rows).toHaveLength(voters.length);
    expect(db.version).toBe(all.length);
    for (const { voter, ballots } of sent) {
      // Every ack says what was stored for it, revisions in the order sent...
      ballots.forEach((ballot, i) => {
        expect(expectOk(ballot.ack!)).toEqual({
          promptId: prompt.id,
          clientBallotId: ballot.clientBallotId,
          optionIds: ballot.optionIds,
          revision: i + 1,
        });
      });
      // ...and the member's stored ballot is their last one.
      const last = ballots.at(-1)!;
      const row = db.byMember.get(voter.memberId)!;
      expect(row).toMatchObject({ clientBallotId: last.clientBallotId, revision: ballots.length });
      expect(row.choices.map((choice) => choice.optionId)).toEqual(last.optionIds);
    }
    // Every client ends with the tally of what is stored.
    const final = { promptId: prompt.id, version: db.version, counts: db.counts, ballots: voters.length };
    for (const client of [host, ...voters.map((voter) => voter.client)]) {
      await eventually(() => lastTally(client, prompt.id)?.version === db.version, 10_000, "the final tally");
      expect(lastTally(client, prompt.id)).toEqual(final);
    }
    close();
  });

  it("refuses a bad ballot in the middle of a group with its own typed error and stores the others", {
    timeout: 120_000,
  }, async () => {
    const { seminar, host, prompt, options, voters, close } = await openRoom(7);
    const [starter, good1, kicked, good2, stale, good3, muted] = voters as [
      (typeof voters)[number],
      ...(typeof voters)[number][],
    ];
    const [observer] = await addVoters(seminar.id, 1, "observer");
    // Muted members keep the vote (docs/moderation.md); the mute is the real command.
    expectOk(await host.send("member:mute", { memberId: muted!.memberId, durationSeconds: 600 }));
    // A kick and a role change made elsewhere (another node) whose disconnects have not arrived:
    // the connections still believe they may vote; the group's statement reads the stored rights.
    await server.prisma.membership.update({ where: { id: kicked!.memberId }, data: { status: "kicked" } });
    await server.prisma.membership.update({
      where: { id: stale!.memberId },
      data: { rightsVersion: { increment: 1 } },
    });

    const release = await holdPrompt(prompt.id);
    const first = vote(starter.client, prompt.id, [options[0]!]);
    await groupBlocked();
    const retryId = randomUUID();
    const group = {
      good1: vote(good1!.client, prompt.id, [options[1]!]),
      tooMany: vote(good1!.client, prompt.id, [options[0]!, options[1]!]),
      kicked: vote(kicked!.client, prompt.id, [options[2]!]),
      foreign: vote(good2!.client, prompt.id, [randomUUID()]),
      good2: vote(good2!.client, prompt.id, [options[2]!], retryId),
      retry: vote(good2!.client, prompt.id, [options[0]!], retryId),
      stale: vote(stale!.client, prompt.id, [options[1]!]),
      observer: vote(observer!.client, prompt.id, [options[1]!]),
      moderator: vote(host, prompt.id, [options[1]!]),
      good3: vote(good3!.client, prompt.id, [options[0]!]),
      muted: vote(muted!.client, prompt.id, [options[2]!]),
    };
    await eventually(() => queue().pending() === 1 + Object.keys(group).length, 10_000, "the group queued");
    await release();
    await first.answer;
    await Promise.all(Object.values(group).map((ballot) => ballot.answer));

    const codeOf = (ballot: { ack?: Result<BallotView> }) => (ballot.ack?.ok ? "ok" : ballot.ack?.error.code);
    expect(Object.fromEntries(Object.entries(group).map(([name, ballot]) => [name, codeOf(ballot)]))).toEqual(
      {
        good1: "ok",
        tooMany: "validation_failed",
        kicked: "forbidden",
        foreign: "validation_failed",
        good2: "ok",
        retry: "ok",
        stale: "forbidden",
        observer: "forbidden",
        moderator: "forbidden",
        good3: "ok",
        muted: "ok",
      },
    );
    // The retry in the same group is answered with the stored ballot, counted once.
    expect(expectOk(group.retry.ack!)).toEqual(expectOk(group.good2.ack!));
    expect(expectOk(group.good2.ack!)).toMatchObject({ optionIds: [options[2]], revision: 1 });

    const db = await stored(prompt.id, options);
    expect(new Set(db.byMember.keys())).toEqual(
      new Set([starter.memberId, good1!.memberId, good2!.memberId, good3!.memberId, muted!.memberId]),
    );
    expect(db.byMember.get(good1!.memberId)).toMatchObject({
      clientBallotId: group.good1.clientBallotId,
      revision: 1,
    });
    expect(db.version).toBe(5);
    expect(db.counts).toEqual({ [options[0]!]: 2, [options[1]!]: 1, [options[2]!]: 2 });
    await eventually(() => lastTally(host, prompt.id)?.version === 5, 10_000, "the final tally");
    expect(lastTally(host, prompt.id)).toEqual({
      promptId: prompt.id,
      version: 5,
      counts: db.counts,
      ballots: 5,
    });
    observer!.client.close();
    close();
  });

  it("answers a member's two quick ballots in order and keeps the later one, group after group", {
    timeout: 120_000,
  }, async () => {
    const { prompt, options, voters, close } = await openRoom(20);
    // No lock held: the groups form as the ballots arrive.
    const pairs = voters.map(({ client }, i) => [
      vote(client, prompt.id, [options[i % 3]!]),
      vote(client, prompt.id, [options[(i + 1) % 3]!]),
    ]);
    await Promise.all(pairs.flat().map((ballot) => ballot.answer));
    const db = await stored(prompt.id, options);
    voters.forEach(({ memberId }, i) => {
      const [earlier, later] = pairs[i]!;
      expect(expectOk(earlier!.ack!).revision).toBe(1);
      expect(expectOk(later!.ack!).revision).toBe(2);
      expect(db.byMember.get(memberId)).toMatchObject({ clientBallotId: later!.clientBallotId, revision: 2 });
      expect(db.byMember.get(memberId)!.choices.map((choice) => choice.optionId)).toEqual(later!.optionIds);
    });
    expect(db.version).toBe(2 * voters.length);
    close();
  });

  it("answers every ballot of a group that fails in the database unavailable and stores none of it", {
    timeout: 120_000,
  }, async () => {
    const { host, prompt, options, voters, close } = await openRoom(8);
    // A fault in the middle of the group's transaction: one ballot's choices cannot be written (a
    // trigger of the test raises), while other ballots of the group were written before it or
    // would be after it.
    const poison = randomUUID();
    await server.prisma.$executeRawUnsafe(`
      CREATE FUNCTION test_fail_ballot() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT client_ballot_id FROM ballots WHERE id = NEW.ballot_id) = '${poison}'::uuid THEN
          RAISE EXCEPTION 'test: the disk is gone';
        END IF;
        RETURN NEW;
      END $$`);
    await server.prisma.$executeRawUnsafe(
      "CREATE TRIGGER test_fail_ballot BEFORE INSERT ON ballot_choices FOR EACH ROW EXECUTE FUNCTION test_fail_ballot()",
    );
    try {
      const release = await holdPrompt(prompt.id);
      const first = vote(voters[0]!.client, prompt.id, [options[0]!]);
      await groupBlocked();
      const group = voters
        .slice(1)
        .map(({ client }, i) => vote(client, prompt.id, [options[i % 3]!], i === 3 ? poison : randomUUID()));
      await eventually(() => queue().pending() === 1 + group.length, 10_000, "the group queued");
      await release();
      expectOk(await first.answer);
      for (const ack of await Promise.all(group.map((ballot) => ballot.answer))) {
        expect(ack).toMatchObject({
          ok: false,
          error: { code: "unavailable", details: { retryAfterMs: expect.any(Number) } },
        });
      }
      const db = await stored(prompt.id, options);
      expect([...db.byMember.keys()]).toEqual([voters[0]!.memberId]);

      // Once the fault is gone, the same ballots sent again are stored, each once.
      await server.prisma.$executeRawUnsafe("DROP TRIGGER test_fail_ballot ON ballot_choices");
      const again = await Promise.all(
        group.map(
          (ballot, i) =>
            vote(voters[i + 1]!.client, prompt.id, ballot.optionIds, ballot.clientBallotId).answer,
        ),
      );
      for (const ack of again) expect(expectOk(ack).revision).toBe(1);
      const after = await stored(prompt.id, options);
      expect(after.rows).toHaveLength(voters.length);
      expect(after.version).toBe(voters.length);
      await eventually(
        () => lastTally(host, prompt.id)?.version === voters.length,
        10_000,
        "the final tally",
      );
    } finally {
      await server.prisma.$executeRawUnsafe("DROP TRIGGER IF EXISTS test_fail_ballot ON ballot_choices");
      await server.prisma.$executeRawUnsafe("DROP FUNCTION IF EXISTS test_fail_ballot()");
      close();
    }
  });
});
