import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CommandPayload } from "../../src/protocol/commands.ts";
import type { Result } from "../../src/protocol/result.ts";
import type { RoomSnapshot, SeminarView } from "../../src/protocol/views.ts";
import { sendOrLose } from "../helpers/cluster.ts";
import { useTestDatabase } from "../helpers/database.ts";
import { TEST_ESSAY } from "../helpers/factories.ts";
import { spawnServer } from "../helpers/process.ts";
import { RoomClient } from "../helpers/server.ts";

// The real server process on PostgreSQL, killed with SIGKILL while 20 participants write, then
// started again on the same database. Nothing acknowledged may be lost, nothing retried may be
// stored twice, and reconnecting clients must end up where a fresh snapshot is.

const database = await useTestDatabase();
const CLIENTS = 20;
const ANNOTATIONS_PER_CLIENT = 20;
const PROMPTS = 5;
/** The server is killed once this many writes were acknowledged (of 20 × 25). */
const KILL_AFTER_ACKS = 150;
/** The server in one node process (no launcher in between, so SIGKILL hits the server itself). */
function startServer() {
  return spawnServer({
    env: { DATABASE_URL: database.url, JWT_SECRET: "crash-test-secret-crash-test-secret-12345" },
    timeoutMs: 60_000,
  });
}

async function http<T>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const result = (await response.json()) as Result<T>;
  if (!result.ok) throw new Error(`${method} ${path}: ${result.error.code} ${result.error.message}`);
  return result.data;
}

/** One write a client makes, with the id it is retried under. */
type Write =
  | { kind: "annotation"; payload: CommandPayload<"annotation:create"> & { clientId: string } }
  | { kind: "ballot"; payload: CommandPayload<"prompt:vote"> };
type Outcome =
  | { state: "acked"; id: string }
  | { state: "refused"; code: string }
  | { state: "lost" }
  | { state: "unsent" };

async function sendWrite(client: RoomClient, write: Write): Promise<Outcome> {
  const answer =
    write.kind === "annotation"
      ? await sendOrLose(client.socket, "annotation:create", write.payload)
      : await sendOrLose(client.socket, "prompt:vote", write.payload);
  if (answer === "lost") return { state: "lost" };
  if (!answer.ok) return { state: "refused", code: answer.error.code };
  // An annotation is known by its id, a ballot by its clientBallotId (one ballot per member and prompt).
  const data = answer.data as { id?: string; clientBallotId?: string };
  return { state: "acked", id: data.id ?? data.clientBallotId ?? "" };
}

/** What must agree between a client's state and a fresh snapshot. */
function projection(state: RoomSnapshot) {
  return {
    seq: state.seq,
    annotations: state.annotations
      .map((a) => ({ id: a.id, body: a.body, version: a.version }))
      .sort((x, y) => x.id.localeCompare(y.id)),
    tallies: Object.fromEntries(
      state.tallies.map((t) => [t.promptId, { counts: t.counts, ballots: t.ballots }]),
    ),
  };
}

describe("crash durability: SIGKILL mid-burst, restart on the same database", () => {
  it("keeps every acknowledged write exactly once; retries add nothing; clients converge", async () => {
    const first = await startServer();
    const host = await http<{ token: string }>(first.url, "POST", "/api/auth/register", {
      email: "crash-host@example.test",
      password: "correct horse battery staple",
      displayName: "Host",
    });
    const prompts = Array.from({ length: PROMPTS }, (_, i) => ({
      kind: "single_choice",
      question: `Question ${i + 1}?`,
      options: ["yes", "no", "maybe"],
    }));
    const seminar = await http<SeminarView>(
      first.url,
      "POST",
      "/api/seminars",
      { title: "Crash", essay: { text: TEST_ESSAY, format: "markdown" }, prompts },
      host.token,
    );
    await http(first.url, "POST", `/api/seminars/${seminar.id}/start`, {}, host.token);
    const moderator = await RoomClient.join(first.url, { token: host.token, seminarId: seminar.id });
    const state = moderator.stream.state!;
    for (const prompt of state.prompts) {
      const opened = await moderator.send("prompt:open", { promptId: prompt.id });
      expect(opened.ok).toBe(true);
    }
    const paragraphs = state.essay.paragraphs.filter((p) => p.kind === "paragraph");
    const guests = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        http<{ token: string; member: { id: string } }>(first.url, "POST", "/api/seminars/join", {
          code: seminar.joinCode,
          displayName: `Reader ${i}`,
        }),
      ),
    );
    const clients = await Promise.all(
      guests.map((guest) => RoomClient.join(first.url, { token: guest.token })),
    );
    // Each client's writes: annotations with a clientId, one ballot per prompt with a clientBallotId.
    const plans: Write[][] = clients.map((_, i) => {
      const writes: Write[] = [];
      for (let k = 0; k < ANNOTATIONS_PER_CLIENT; k++) {
        writes.push({
          kind: "annotation",
          payload: {
            paragraphId: paragraphs[k % paragraphs.length]!.id,
            body: `Note ${i}.${k}`,
            clientId: `c${i}-${k}`,
          },
        });
        if (k % 4 === 3) {
          const prompt = state.prompts[(k - 3) / 4]!;
          writes.push({
            kind: "ballot",
            payload: {
              promptId: prompt.id,
              optionIds: [prompt.options[(i + k) % prompt.options.length]!.id],
              clientBallotId: randomUUID(),
            },
          });
        }
      }
      return writes;
    });
    expect(plans[0]!.length).toBe(ANNOTATIONS_PER_CLIENT + PROMPTS);

    // The burst: every client writes as fast as its acks come back; the server dies at KILL_AFTER_ACKS.
    const outcomes: Outcome[][] = plans.map(() => []);
    const burstStarted = Date.now();
    let acked = 0;
    let killedAt = 0;
    await Promise.all(
      clients.map(async (client, i) => {
        for (const write of plans[i]!) {
          const outcome = killedAt > 0 ? ({ state: "unsent" } as const) : await sendWrite(client, write);
          outcomes[i]!.push(outcome);
          if (outcome.state === "acked" && ++acked >= KILL_AFTER_ACKS && killedAt === 0) {
            killedAt = acked;
            first.child.kill("SIGKILL");
          }
        }
      }),
    );
    expect(await first.exited).toBe("SIGKILL");
    const all = outcomes.flat();
    const ackedBeforeKill = all.filter((o) => o.state === "acked").length;
    const lost = all.filter((o) => o.state === "lost").length;
    const unsent = all.filter((o) => o.state === "unsent").length;
    const timings: Record<string, number> = { burst: Date.now() - burstStarted };
    // The kill came mid-burst: some writes were acknowledged, others never were.
    expect(ackedBeforeKill).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(lost).toBeGreaterThan(0);
    expect(all.filter((o) => o.state === "refused")).toEqual([]);
    for (const client of [...clients, moderator]) client.close();

    let phase = Date.now();
    const second = await startServer();
    timings.restart = Date.now() - phase;
    // Every acknowledged write is stored, once, as acknowledged, before anyone retries.
    const prisma = database.prisma;
    let inFlightStored = 0;
    for (const [i, plan] of plans.entries()) {
      for (const [j, write] of plan.entries()) {
        const outcome = outcomes[i]![j]!;
        if (outcome.state === "lost") {
          // In flight at the kill: committed or not, never half (a retry below settles it).
          const stored =
            write.kind === "annotation"
              ? await prisma.annotation.count({
                  where: { authorId: guests[i]!.member.id, clientId: write.payload.clientId },
                })
              : await prisma.ballot.count({ where: { clientBallotId: write.payload.clientBallotId } });
          inFlightStored += stored;
        }
        if (outcome.state !== "acked") continue;
        if (write.kind === "annotation") {
          const rows = await prisma.annotation.findMany({
            where: { authorId: guests[i]!.member.id, clientId: write.payload.clientId },
          });
          expect(rows.map((row) => row.id)).toEqual([outcome.id]);
        } else {
          const rows = await prisma.ballot.findMany({
            where: { memberId: guests[i]!.member.id, promptId: write.payload.promptId },
          });
          expect(rows.map((row) => row.clientBallotId)).toEqual([outcome.id]);
        }
      }
    }

    // Clients reconnect to the restarted server, catch up from their last seq and retry every write
    // with the same ids (acknowledged ones too, as a client that missed the ack would).
    phase = Date.now();
    const reconnected = await Promise.all(
      clients.map((client, i) => RoomClient.join(second.url, { token: guests[i]!.token }, client.stream)),
    );
    await Promise.all(
      reconnected.map(async (client, i) => {
        for (const [j, write] of plans[i]!.entries()) {
          const outcome = await sendWrite(client, write);
          expect(outcome.state, `retry ${i}.${j}`).toBe("acked");
          const before = outcomes[i]![j]!;
          if (before.state === "acked" && outcome.state === "acked") expect(outcome.id).toBe(before.id);
        }
      }),
    );

    timings.retries = Date.now() - phase;
    // Exactly once: one row per clientId and per (prompt, member), one created event per annotation.
    const annotations = await prisma.annotation.findMany({ where: { seminarId: seminar.id } });
    expect(annotations.length).toBe(CLIENTS * ANNOTATIONS_PER_CLIENT);
    expect(new Set(annotations.map((a) => `${a.authorId}/${a.clientId}`)).size).toBe(annotations.length);
    const created = await prisma.roomEvent.count({
      where: { seminarId: seminar.id, type: "annotation:created" },
    });
    expect(created).toBe(annotations.length);
    const ballots = await prisma.ballot.findMany({ where: { prompt: { seminarId: seminar.id } } });
    expect(ballots.length).toBe(CLIENTS * PROMPTS);
    expect(ballots.every((ballot) => ballot.revision === 1)).toBe(true);
    const planned = new Set(
      plans.flat().flatMap((w) => (w.kind === "ballot" ? [w.payload.clientBallotId] : [])),
    );
    expect(new Set(ballots.map((ballot) => ballot.clientBallotId))).toEqual(planned);
    const log = await prisma.roomEvent.aggregate({
      where: { seminarId: seminar.id },
      _count: true,
      _max: { seq: true },
    });
    const stored = await prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } });
    expect([log._count, log._max.seq]).toEqual([stored.lastSeq, stored.lastSeq]);

    // Convergence: every reconnected client's state equals a fresh snapshot (same seq, annotations, tallies).
    phase = Date.now();
    const fresh = await RoomClient.join(second.url, { token: guests[0]!.token });
    const expected = projection(fresh.stream.state!);
    expect(expected.annotations.length).toBe(CLIENTS * ANNOTATIONS_PER_CLIENT);
    for (const tally of Object.values(expected.tallies)) expect(tally.ballots).toBe(CLIENTS);
    for (const [i, client] of reconnected.entries())
      await expect
        .poll(() => projection(client.stream.state!), { timeout: 15_000, message: `client ${i}` })
        .toEqual(expected);
    timings.converged = Date.now() - phase;
    for (const client of [...reconnected, fresh]) client.close();
    second.child.kill("SIGTERM");
    await second.exited;
    console.info(
      `crash durability: ${ackedBeforeKill} acknowledged before SIGKILL, ${lost} in flight (${inFlightStored} of them committed), ${unsent} unsent, ` +
        `${all.length} writes in all; ms:`,
      timings,
    );
  }, 120_000);
});
