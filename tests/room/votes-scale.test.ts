import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { PromptView, TallyView } from "../../src/protocol/views.ts";
import { buildSeminar, expectOk } from "../helpers/factories.ts";
import { eventually, RoomClient, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

const PARTICIPANTS = 200;
const CHANGES = 50;
const CHUNK = 50;

/** Runs `make` for 0..count-1, `CHUNK` at a time (a burst of hundreds of handshakes at once is not the point). */
async function inChunks<T>(count: number, make: (index: number) => Promise<T>): Promise<T[]> {
  const all: T[] = [];
  for (let start = 0; start < count; start += CHUNK) {
    all.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(CHUNK, count - start) }, (_, i) => make(start + i)),
      )),
    );
  }
  return all;
}

/** What the database holds: counts per option (from the ballots), number of ballots, tally version. */
async function stored(promptId: string) {
  const prompt = await server.prisma.prompt.findUniqueOrThrow({
    where: { id: promptId },
    select: { options: { select: { id: true }, orderBy: { position: "asc" } } },
  });
  const picks = await server.prisma.ballotChoice.groupBy({
    by: ["optionId"],
    where: { ballot: { promptId } },
    _count: { _all: true },
  });
  const counts: Record<string, number> = Object.fromEntries(prompt.options.map((option) => [option.id, 0]));
  for (const row of picks) counts[row.optionId] = row._count._all;
  const ballots = await server.prisma.ballot.count({ where: { promptId } });
  // The tally version is the number of ballot writes: the sum of the ballots' revisions.
  const revisions = await server.prisma.ballot.aggregate({ where: { promptId }, _sum: { revision: true } });
  return { promptId, version: revisions._sum.revision ?? 0, counts, ballots };
}

describe("a room of hundreds voting at once", () => {
  it(`keeps ${PARTICIPANTS} clients' tallies equal to the stored ballots, with few messages`, {
    timeout: 120_000,
  }, async () => {
    const { seminar, moderator } = await buildSeminar(server, {
      prompts: [
        {
          kind: "scale",
          question: "Open models make research fairer.",
          min: 1,
          max: 5,
          minLabel: "Disagree",
          maxLabel: "Agree",
        },
      ],
    });
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const prompt: PromptView = host.stream.state!.prompts[0]!;
    const points = prompt.options.map((option) => option.id);

    // Guests are created directly: joining by code is rate-limited per IP (30 a minute).
    const members = await server.prisma.membership.createManyAndReturn({
      data: Array.from({ length: PARTICIPANTS }, (_, i) => ({
        seminarId: seminar.id,
        role: "participant" as const,
        displayName: `Reader ${i}`,
      })),
      select: { id: true },
    });
    const clients = await inChunks(PARTICIPANTS, (i) =>
      RoomClient.join(server.url, {
        token: server.app.context.tokens.issue({ kind: "guest", sub: members[i]!.id, sem: seminar.id, rv: 0 })
          .token,
      }),
    );
    expectOk(await host.send("prompt:open", { promptId: prompt.id }));

    const cast = (client: RoomClient, point: string) =>
      client.send("prompt:vote", {
        promptId: prompt.id,
        optionIds: [point],
        clientBallotId: randomUUID(),
      });
    const started = Date.now();
    // Everyone votes at once; once a quarter of those ballots are acknowledged (so the rest still
    // arrive), the first 50 change their minds.
    let acked = 0;
    const firstWave = Promise.all(
      clients.map((client, i) =>
        cast(client, points[i % points.length]!).then((ack) => {
          acked++;
          return ack;
        }),
      ),
    );
    await eventually(() => acked >= clients.length / 4, 30_000, "a quarter of the first ballots");
    const changes = Promise.all(
      clients.slice(0, CHANGES).map((client, i) => cast(client, points[(i + 2) % points.length]!)),
    );
    const [first, second] = await Promise.all([firstWave, changes]);
    const votingMs = Date.now() - started;
    const ballotsSent = first.length + second.length;
    for (const ack of [...first, ...second]) expectOk(ack);
    expect(ballotsSent).toBeGreaterThanOrEqual(250);

    const db = await stored(prompt.id);
    expect(db.ballots).toBe(PARTICIPANTS);
    expect(db.version).toBe(ballotsSent);
    const everyone = [host, ...clients];
    const latest = (client: RoomClient): TallyView | undefined =>
      client.stream.state!.tallies.find((tally) => tally.promptId === prompt.id);
    await eventually(
      () => everyone.every((client) => latest(client)?.version === db.version),
      20_000,
      "every client to hold the final tally",
    );
    const settledMs = Date.now() - started;

    for (const client of everyone) {
      expect(latest(client)).toEqual(db);
      const received = client.tallies.filter((tally) => tally.promptId === prompt.id);
      // Coalesced: a handful of whole tallies per client, not one message per ballot.
      expect(received.length).toBeLessThan(30);
      // Versions only grow in what each client received.
      const versions = received.map((tally) => tally.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }
    const messages = clients.map(
      (client) => client.tallies.filter((tally) => tally.promptId === prompt.id).length,
    );
    console.info(
      `${PARTICIPANTS} clients, ${ballotsSent} ballots acked in ${votingMs} ms, all tallies final after ${settledMs} ms; ` +
        `tally messages per client: min ${Math.min(...messages)}, max ${Math.max(...messages)}`,
    );

    // The history holds what was sent, ending with the final version.
    const history = await server.prisma.tallySnapshot.findMany({
      where: { promptId: prompt.id },
      orderBy: { version: "asc" },
    });
    expect(history.at(-1)).toMatchObject({ version: db.version, ballots: db.ballots, counts: db.counts });

    host.close();
    for (const client of clients) client.close();
  });
});
