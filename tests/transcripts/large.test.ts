/**
 * A large session's transcript streams: thousands of annotations (generated straight into the
 * database with their room facts, as a long session would leave them) come out complete in every
 * format while the server's heap grows by a bounded amount, and the first bytes leave long before
 * the last page is read. An export in progress leaves the room working, and a client that goes
 * away mid-download stops its export and frees its place.
 */
import { randomUUID } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it, vi } from "vitest";
import { sliceCodePoints } from "../../src/modules/essays/essay.text.ts";
import { LIMITS } from "../../src/protocol/limits.ts";
import type { TranscriptDocument } from "../../src/protocol/transcripts.ts";
import type { RoomSnapshot } from "../../src/protocol/views.ts";
import type { NewFact } from "../../src/realtime/room-facts.ts";
import { appendEvents } from "../../src/realtime/room-log.ts";
import { holdLock } from "../helpers/database.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { RoomClient, startTestServer } from "../helpers/server.ts";
import { readCsv, transcriptValidator, unzip } from "../helpers/transcripts.ts";

const server = await startTestServer({ TRANSCRIPTS_PER_MINUTE: "1000" });
const ANNOTATIONS = 4_000;
// Building the session, and starting the export thread (it loads the server's modules and opens
// its own connections: seconds from the TypeScript sources on a loaded machine), take a while.
vi.setConfig({ testTimeout: 180_000 });

// A real garbage collection before each heap reading, so the readings are what is retained.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;
const retainedHeap = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

/** A live seminar with 40 participants and ANNOTATIONS annotations (a tenth of them replies). */
async function buildLargeSession() {
  const { seminar, moderator } = await buildSeminar(server);
  const snapshot = expectOk(
    await server.http<RoomSnapshot>("GET", `/api/seminars/${seminar.id}`, undefined, moderator.token),
  );
  const paragraphs = snapshot.essay.paragraphs.filter((p) => p.kind === "paragraph");
  const members = await server.prisma.membership.createManyAndReturn({
    data: Array.from({ length: 40 }, (_, i) => ({
      seminarId: seminar.id,
      role: "participant" as const,
      displayName: `Reader ${i}`,
    })),
    select: { id: true },
  });
  const roots: { id: string; paragraphId: string }[] = [];
  const rows = Array.from({ length: ANNOTATIONS }, (_, i) => {
    const reply = i % 10 === 9 && roots.length > 0;
    const root = roots[i % Math.max(1, roots.length)];
    // A reply sits on its root's paragraph, as the server stores it.
    const paragraph = reply
      ? paragraphs.find((p) => p.id === root!.paragraphId)!
      : paragraphs[i % paragraphs.length]!;
    const id = randomUUID();
    if (!reply) roots.push({ id, paragraphId: paragraph.id });
    const text = [...paragraph.text];
    const start = i % 5;
    const end = Math.min(text.length, start + 6);
    return {
      id,
      seminarId: seminar.id,
      paragraphId: paragraph.id,
      authorId: members[i % members.length]!.id,
      parentId: reply ? root!.id : null,
      ...(reply || i % 2 === 0
        ? {}
        : {
            startOffset: start,
            endOffset: end,
            quoteExact: sliceCodePoints(paragraph.text, start, end),
            quotePrefix: sliceCodePoints(paragraph.text, 0, start),
            quoteSuffix: sliceCodePoints(paragraph.text, end, end + 32),
          }),
      body: `Comment ${i}: 這一段值得再讀一次 — ${"word ".repeat(i % 40)}`.trim(),
      tags: i % 3 === 0 ? ["evidence"] : [],
      createdAt: new Date(Date.now() - (ANNOTATIONS - i) * 10),
    };
  });
  // Replies must come after their roots: a root created later than its reply is impossible live,
  // but the parent only needs to exist here.
  for (let i = 0; i < rows.length; i += 1_000) {
    const batch = rows.slice(i, i + 1_000);
    await server.prisma.annotation.createMany({ data: batch.filter((row) => row.parentId === null) });
    await server.prisma.annotation.createMany({ data: batch.filter((row) => row.parentId !== null) });
    const facts: NewFact[] = batch.map((row) => ({
      type: "annotation:created",
      actorId: row.authorId,
      fact: { annotationId: row.id },
    }));
    await server.prisma.$transaction((tx) => appendEvents(tx, seminar.id, facts));
  }
  return { seminar, moderator, paragraphId: paragraphs[0]!.id };
}

/** One large session for the whole file (building it is the slow part). */
let largeSession: ReturnType<typeof buildLargeSession> | undefined;
const theLargeSession = () => {
  largeSession ??= buildLargeSession();
  return largeSession;
};

/**
 * Holds every export that reaches the moderation log (JSON reads it after the ballots, the tally
 * history and the annotations: megabytes after the first chunk) until the returned function is
 * called (it resolves once the lock is given back): a transaction of
 * this test locks the table against readers. The exports are then in progress for as long as the
 * test needs, however fast the machine or large the pages, instead of for as long as the kernel's
 * and the client's buffers take to fill.
 */
function holdExportsAtTheModerationLog(): Promise<() => Promise<void>> {
  return holdLock(
    server.prisma,
    (tx) => tx.$executeRaw`LOCK TABLE moderation_actions IN ACCESS EXCLUSIVE MODE`,
    { timeoutMs: 170_000 },
  );
}

/**
 * Starts a download and reads its first chunk, then leaves the rest unread until `rest` reads on or
 * `abort` hangs up (what holds the export meanwhile is the client's pace, or a lock the test holds).
 */
async function startDownload(url: string, token: string) {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const first = await reader.read();
  expect(first.done).toBe(false);
  return {
    async rest(): Promise<Buffer> {
      const chunks = [first.value!];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return Buffer.concat(chunks);
        chunks.push(value);
      }
    },
    abort: () => controller.abort(),
  };
}

/**
 * Reads a response body chunk by chunk, measuring the retained heap every 20 chunks (the server
 * runs in this process; the body's bytes are ArrayBuffers, outside the heap); returns the bytes and
 * what it saw.
 */
async function streamed(url: string, token: string) {
  const baseline = retainedHeap();
  const started = performance.now();
  let peak = baseline;
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  let firstByteMs = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (chunks.length === 0) firstByteMs = performance.now() - started;
    chunks.push(value);
    if (chunks.length % 20 === 0) peak = Math.max(peak, retainedHeap());
  }
  return {
    status: response.status,
    bytes: Buffer.concat(chunks),
    chunks: chunks.length,
    firstByteMs,
    totalMs: performance.now() - started,
    heapGrowthMb: (Math.max(peak, retainedHeap()) - baseline) / 2 ** 20,
  };
}

describe("a large session's transcript", () => {
  it("streams every format complete, with bounded memory", async () => {
    const { seminar, moderator } = await theLargeSession();
    const base = `${server.url}/api/seminars/${seminar.id}/transcript`;

    const json = await streamed(`${base}?format=json`, moderator.token);
    expect(json.status).toBe(200);
    const document = JSON.parse(json.bytes.toString("utf8")) as TranscriptDocument;
    expect(transcriptValidator()(document)).toBe(true);
    expect(document.annotations).toHaveLength(ANNOTATIONS);
    expect(new Set(document.annotations.map((a) => a.id)).size).toBe(ANNOTATIONS);
    const created = document.timeline.filter(
      (e) => e.kind === "event" && e.event.type === "annotation:created",
    );
    expect(created).toHaveLength(ANNOTATIONS);
    expect(json.chunks).toBeGreaterThan(10);
    expect(json.firstByteMs).toBeLessThan(json.totalMs);

    const zip = await streamed(`${base}?format=zip&anonymized=true`, moderator.token);
    expect(zip.status).toBe(200);
    const entries = await unzip(zip.bytes);
    const csv = [...entries].find(([name]) => name.endsWith("/annotations.csv"))![1].toString("utf8");
    expect(readCsv(csv)).toHaveLength(ANNOTATIONS);
    const md = [...entries].find(([name]) => name.endsWith("/transcript.md"))![1].toString("utf8");
    expect(md.match(/^ *- Reader|^ *- Participant \d+ ·/gm)).toHaveLength(ANNOTATIONS);
    const jsonld = JSON.parse(
      [...entries].find(([name]) => name.endsWith("/annotations.jsonld"))![1].toString("utf8"),
    );
    expect(jsonld.total).toBe(ANNOTATIONS);

    // The whole JSON is several megabytes; the main thread holds a chunk at a time (the export
    // thread, whose heap is capped by EXPORT_HEAP, a page).
    console.info(
      `transcript of ${ANNOTATIONS} annotations: json ${(json.bytes.length / 2 ** 20).toFixed(1)} MB in ${json.totalMs.toFixed(0)} ms ` +
        `(first byte ${json.firstByteMs.toFixed(0)} ms, heap +${json.heapGrowthMb.toFixed(1)} MB); ` +
        `zip ${(zip.bytes.length / 2 ** 20).toFixed(1)} MB in ${zip.totalMs.toFixed(0)} ms (heap +${zip.heapGrowthMb.toFixed(1)} MB)`,
    );
    expect(json.heapGrowthMb).toBeLessThan(40);
    expect(zip.heapGrowthMb).toBeLessThan(40);
  });

  it("keeps the room answering while an export is in progress", async () => {
    const { seminar, moderator, paragraphId } = await theLargeSession();
    const guest = await buildGuest(server, seminar.joinCode!, "Live reader");
    const reader = await RoomClient.join(server.url, { token: guest.token });
    const url = `${server.url}/api/seminars/${seminar.id}/transcript?format=json`;
    const release = await holdExportsAtTheModerationLog();
    let download: Awaited<ReturnType<typeof startDownload>>;
    try {
      download = await startDownload(url, moderator.token);
      expect(server.app.transcripts.running).toBe(1);

      // The export is mid-stream (the client has read one chunk of several megabytes): the room
      // still takes and acknowledges live commands, and they are stored.
      for (let i = 0; i < 5; i++) {
        const ack = await reader.send("annotation:create", { paragraphId, body: `live note ${i}` });
        expect(ack).toMatchObject({ ok: true });
      }
      expect(
        await server.prisma.annotation.count({
          where: { seminarId: seminar.id, body: { startsWith: "live note" } },
        }),
      ).toBe(5);
      expect(server.app.transcripts.running).toBe(1);
    } finally {
      await release();
    }

    const document = JSON.parse((await download.rest()).toString("utf8")) as TranscriptDocument;
    expect(transcriptValidator()(document)).toBe(true);
    expect(document.annotations.length).toBeGreaterThanOrEqual(ANNOTATIONS);
    await expect.poll(() => server.app.transcripts.running).toBe(0);
    reader.close();
  });

  it("stops the export and frees its place when the client goes away mid-download", async () => {
    const { seminar, moderator } = await theLargeSession();
    const url = `${server.url}/api/seminars/${seminar.id}/transcript?format=json`;
    const release = await holdExportsAtTheModerationLog();
    try {
      const downloads = [];
      for (let i = 0; i < LIMITS.concurrentTranscripts; i++)
        downloads.push(await startDownload(url, moderator.token));
      expect(server.app.transcripts.running).toBe(LIMITS.concurrentTranscripts);
      // Every place is taken.
      const refused = await fetch(url, { headers: { authorization: `Bearer ${moderator.token}` } });
      expect(refused.status).toBe(429);
      await refused.arrayBuffer();

      for (const download of downloads) download.abort();
    } finally {
      await release();
    }
    // The exports stop where they are (they do not read the rest of the session for nobody)…
    await expect.poll(() => server.app.transcripts.running, { timeout: 15_000 }).toBe(0);
    // …and their places are free again.
    const again = [];
    for (let i = 0; i < LIMITS.concurrentTranscripts; i++)
      again.push(await startDownload(url, moderator.token));
    const documents = await Promise.all(
      again.map(async (download) => JSON.parse((await download.rest()).toString("utf8"))),
    );
    for (const document of documents) expect(document.annotations.length).toBeGreaterThanOrEqual(ANNOTATIONS);
  });
});
