import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApplication } from "../src/app.ts";
import { buildConfig } from "../src/config.ts";
import { createPrismaClient } from "../src/db/client.ts";
import { startEmbeddedPostgres } from "../src/db/embedded.ts";
import { migrate } from "../src/db/migrator.ts";
import { createLogger } from "../src/logger.ts";
import type { TranscriptDocument } from "../src/protocol/transcripts.ts";
import type { PromptView } from "../src/protocol/views.ts";
import { expectOk, TEST_ESSAY } from "./helpers/factories.ts";
import { eventually, RoomClient } from "./helpers/server.ts";

// What `npm start` runs without DATABASE_URL: PGlite over a local socket, one connection.
const dataDir = await mkdtemp(join(tmpdir(), "stepstone-embedded-"));
const embedded = await startEmbeddedPostgres(dataDir);
await migrate(embedded.url);
const prisma = createPrismaClient(embedded.url, { maxConnections: 1 });
const app = await createApplication({
  config: buildConfig({ JWT_SECRET: "embedded-secret-embedded-secret-12345" }),
  prisma,
  logger: createLogger({ logLevel: "silent" }),
});
await new Promise<void>((resolve) => app.httpServer.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(app.httpServer.address() as AddressInfo).port}`;
app.context.config.publicUrl = url;

afterAll(async () => {
  await app.close();
  await prisma.$disconnect();
  await embedded.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function http<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return expectOk(await response.json());
}

describe("the embedded database (PGlite, one connection)", () => {
  it("runs a whole session: seminar, joins, annotations, a prompt with concurrent ballots", async () => {
    const { token } = await http<{ token: string }>("POST", "/api/auth/register", {
      email: "embedded@example.test",
      password: "correct horse battery staple",
      displayName: "Host",
    });
    const seminar = await http<{ id: string; joinCode: string }>(
      "POST",
      "/api/seminars",
      {
        title: "Embedded",
        essay: { text: TEST_ESSAY, format: "markdown" },
        prompts: [
          { kind: "single_choice", question: "Should DeepSeek be a national team?", options: ["Yes", "No"] },
        ],
      },
      token,
    );
    await http("POST", `/api/seminars/${seminar.id}/start`, {}, token);
    const host = await RoomClient.join(url, { token, seminarId: seminar.id });
    const guests = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const joined = await http<{ token: string }>("POST", "/api/seminars/join", {
          code: seminar.joinCode,
          displayName: `Guest ${i}`,
        });
        return RoomClient.join(url, { token: joined.token });
      }),
    );
    const paragraphId = host.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;
    const notes = await Promise.all(
      guests.map((guest, i) => guest.send("annotation:create", { paragraphId, body: `note ${i}` })),
    );
    expect(notes.every((note) => note.ok)).toBe(true);

    const prompt = host.stream.state!.prompts[0] as PromptView;
    expectOk(await host.send("prompt:open", { promptId: prompt.id }));
    const ballots = await Promise.all(
      guests.map((guest, i) =>
        guest.send("prompt:vote", {
          promptId: prompt.id,
          optionIds: [prompt.options[i % 2]!.id],
          clientBallotId: randomUUID(),
        }),
      ),
    );
    expect(ballots.every((ballot) => ballot.ok)).toBe(true);
    await eventually(
      () => host.stream.state!.tallies.some((t) => t.promptId === prompt.id && t.ballots === 8),
      10_000,
      "the tally of 8 ballots",
    );
    const tally = host.stream.state!.tallies.find((t) => t.promptId === prompt.id)!;
    expect(tally.counts).toEqual({ [prompt.options[0]!.id]: 4, [prompt.options[1]!.id]: 4 });
    await eventually(
      () => guests.every((g) => g.stream.seq === host.stream.seq),
      10_000,
      "everyone at the same seq",
    );
    expect(await prisma.annotation.count()).toBe(8);
    // Without a database URL for export threads, the transcript is built on the main thread, on
    // the one connection, and streams all the same.
    const download = await fetch(`${url}/api/seminars/${seminar.id}/transcript?format=json`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(download.status).toBe(200);
    const transcript = (await download.json()) as TranscriptDocument;
    expect(transcript.annotations.map((a) => a.body).sort()).toEqual(
      guests.map((_, i) => `note ${i}`).sort(),
    );
    expect(transcript.members).toHaveLength(9);
    for (const client of [host, ...guests]) client.close();
  }, 60_000);
});
