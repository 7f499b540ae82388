import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Acked, FailoverClient, type Write } from "../helpers/cluster.ts";
import { useTestDatabase } from "../helpers/database.ts";
import { buildGuest, buildSeminar, expectOk, YES_NO } from "../helpers/factories.ts";
import { type ServerProcess, spawnServer } from "../helpers/process.ts";
import { redisEnv } from "../helpers/redis.ts";
import { coveredSeqs, eventually, RoomClient } from "../helpers/server.ts";

// A rolling restart of a two-node deployment under load: each node in turn gets SIGTERM (drains,
// tells its clients why, exits 0) and is replaced by a new process, while clients keep writing.
// No acknowledged write may be lost, and no client may get an error it cannot recover from.

const WRITERS = 4;
/** Annotations each writer writes at least (it goes on until both nodes have been replaced). */
const MIN_NOTES = 20;

const database = await useTestDatabase();
const env = {
  DATABASE_URL: database.url,
  JWT_SECRET: "rolling-secret-rolling-secret-rolling-12",
  SHUTDOWN_DRAIN_MS: "300",
  ...redisEnv(),
};
const nodes: ServerProcess[] = await Promise.all([spawnServer({ env }), spawnServer({ env })]);
const urls = () => nodes.map((node) => node.url);

/** Stops node `i` with SIGTERM (it must exit 0) and puts a new process in its place. */
async function replace(i: number): Promise<void> {
  const old = nodes[i]!;
  const next = spawnServer({ env });
  old.child.kill("SIGTERM");
  expect(await old.exited).toBe(0);
  expect(old.output()).toContain('"msg":"stopped"');
  nodes[i] = await next;
}

describe("rolling restart under load", () => {
  it("loses no acknowledged write and leaves no client with an error it cannot recover from", async () => {
    const { seminar, moderator } = await buildSeminar(nodes[0]!, { prompts: [YES_NO] });
    const host = await RoomClient.join(nodes[0]!.url, { token: moderator.token, seminarId: seminar.id });
    const prompt = host.stream.state!.prompts[0]!;
    expectOk(await host.send("prompt:open", { promptId: prompt.id }));
    host.close();
    const guests = [];
    for (let i = 0; i < WRITERS; i++)
      guests.push(await buildGuest(nodes[i % 2]!, seminar.joinCode!, `W${i}`));
    const writers = await Promise.all(
      guests.map((guest, i) => FailoverClient.join(urls, guest.token, i % 2)),
    );
    const paragraphs = writers[0]!.current.stream.state!.essay.paragraphs.filter(
      (p) => p.kind === "paragraph",
    );
    const note = (i: number, k: number): Write => ({
      kind: "annotation",
      payload: {
        paragraphId: paragraphs[k % paragraphs.length]!.id,
        body: `W${i}.${k}`,
        clientId: `w${i}-${k}`,
      },
    });
    const ballotIds = writers.map(() => randomUUID());

    // The writers write as fast as their acks return until both nodes have been replaced (and a
    // few more after), then vote.
    let acks = 0;
    let restarting = true;
    const writing = Promise.all(
      writers.map(async (writer, i) => {
        const notes: (Acked | undefined)[] = [];
        while (restarting || notes.length < MIN_NOTES) {
          notes.push(await writer.write(note(i, notes.length)));
          acks++;
        }
        const ballot = await writer.write({
          kind: "ballot",
          payload: {
            promptId: prompt.id,
            optionIds: [prompt.options[i % 2]!.id],
            clientBallotId: ballotIds[i]!,
          },
        });
        return { notes, ballot };
      }),
    );
    await eventually(() => acks >= 10, 60_000, "the first writes");
    await replace(0);
    await replace(1);
    restarting = false;
    const results = await writing;

    for (const writer of writers) expect(writer.errors).toEqual([]);
    // Both nodes went away under the writers: every writer was told why and moved at least once.
    for (const writer of writers) {
      expect(writer.closings).toContain("shutting_down");
      expect(writer.connections.length).toBeGreaterThan(1);
    }
    // Every acknowledged write is stored once, under the id it was acknowledged with.
    const annotations = await database.prisma.annotation.findMany({ where: { seminarId: seminar.id } });
    const written = results.reduce((sum, result) => sum + result.notes.length, 0);
    expect(annotations).toHaveLength(written);
    for (const [i, { notes, ballot }] of results.entries()) {
      expect(ballot?.id).toBe(ballotIds[i]);
      for (const [k, acked] of notes.entries())
        expect(annotations.filter((a) => a.clientId === `w${i}-${k}`).map((a) => a.id)).toEqual([acked!.id]);
    }
    const ballots = await database.prisma.ballot.findMany({ where: { promptId: prompt.id } });
    expect(ballots.map((b) => b.clientBallotId).sort()).toEqual([...ballotIds].sort());

    // Every writer ends with the room as stored: gap-free events, the same annotations and tally.
    const { lastSeq } = await database.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } });
    await Promise.all(writers.map((writer) => writer.settled()));
    await Promise.all(writers.map((writer) => writer.current.waitForSeq(lastSeq)));
    const stored = annotations.map((a) => a.id).sort();
    for (const writer of writers) {
      const seqs = coveredSeqs(writer.applied);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
      expect(writer.current.stream.state!.annotations.map((a) => a.id).sort()).toEqual(stored);
      await expect
        .poll(() => writer.current.stream.state!.tallies.find((t) => t.promptId === prompt.id)?.ballots)
        .toBe(WRITERS);
    }
    console.info(
      `rolling restart: ${written} annotations and ${WRITERS} ballots acknowledged; connections per writer ${writers.map((w) => w.connections.length).join(", ")}; retried writes ${results.flatMap((r) => r.notes).filter((acked) => acked!.attempts > 1).length}`,
    );
    for (const writer of writers) writer.close();
  }, 240_000);
});
