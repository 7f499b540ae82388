/**
 * Transcript export benchmark: a generated session (annotations with their room events, members,
 * prompts with ballots and a tally history, written straight into the bench database as a long
 * session would leave them) exported in every format over HTTP from the real server in a child
 * process. Reports each export's time and size, the server's peak memory growth over its
 * post-GC baseline, and the live room's ack latency (a participant annotating 10 times a second)
 * without an export and during a JSON export.
 *
 *   npm run bench:transcript -- [--annotations 20000] [--ballots 100000] [--prompts 5]
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import { io } from "socket.io-client";
import { now, sleep } from "./clock.ts";
import { createBenchDatabase } from "./database.ts";
import { BENCH_ESSAY } from "./essay.ts";
import { summarize } from "./histogram.ts";
import { ServerProcess } from "./processes.ts";

const { values: flags } = parseArgs({
  options: {
    annotations: { type: "string", default: "20000" },
    ballots: { type: "string", default: "100000" },
    prompts: { type: "string", default: "5" },
    "latency-seconds": { type: "string", default: "4" },
  },
});
const ANNOTATIONS = Number(flags.annotations);
const BALLOTS = Number(flags.ballots);
const PROMPTS = Number(flags.prompts);
const LATENCY_MS = Number(flags["latency-seconds"]) * 1000;
const MEMBERS = Math.ceil(BALLOTS / PROMPTS);

async function api<T>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = (await response.json()) as { ok: boolean; data: T; error?: { message: string } };
  if (!answer.ok) throw new Error(`${method} ${path}: ${answer.error?.message}`);
  return answer.data;
}

/** The session through the API (seminar, prompts, start), then its bulk in SQL. */
async function generate(base: string, databaseUrl: string) {
  const moderator = await api<{ token: string }>(base, "POST", "/api/auth/register", {
    email: `bench-${randomBytes(4).toString("hex")}@example.test`,
    password: "correct horse battery staple",
    displayName: "Bench host",
  });
  const prompts = Array.from({ length: PROMPTS }, (_, i) => ({
    kind: "single_choice",
    question: `Bench question ${i + 1}?`,
    options: ["Yes", "No", "Not sure"],
    anonymous: i % 2 === 0,
    resultsVisibility: "live",
  }));
  const seminar = await api<{ id: string; joinCode: string }>(
    base,
    "POST",
    "/api/seminars",
    { title: "Transcript bench", essay: { text: BENCH_ESSAY, format: "markdown" }, prompts },
    moderator.token,
  );
  await api(base, "POST", `/api/seminars/${seminar.id}/start`, {}, moderator.token);
  const guest = await api<{ token: string }>(base, "POST", "/api/seminars/join", {
    code: seminar.joinCode,
    displayName: "Live reader",
  });

  const db = new pg.Client({ connectionString: databaseUrl });
  // Reported through the failing query; the connection's own error event must not crash the run.
  db.on("error", () => {});
  await db.connect();
  const started = now();
  await db.query(
    `INSERT INTO memberships (seminar_id, role, display_name, created_at)
     SELECT $1, 'participant', 'Reader ' || g, now() - interval '2 hours' + g * interval '1 ms'
     FROM generate_series(1, $2::int) g`,
    [seminar.id, MEMBERS],
  );
  // Annotations on annotatable paragraphs, one in ten a reply to an earlier root on the same
  // paragraph, half of the roots highlighting their paragraph's first ten code points.
  await db.query(
    `WITH paragraphs AS (
       SELECT p.id, p.text, row_number() OVER (ORDER BY p.position) - 1 AS n, count(*) OVER () AS total
       FROM paragraphs p JOIN essays e ON e.id = p.essay_id WHERE e.seminar_id = $1 AND p.kind = 'paragraph'),
     members AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM memberships WHERE seminar_id = $1 AND role = 'participant')
     INSERT INTO annotations (seminar_id, paragraph_id, author_id, start_offset, end_offset, quote_exact, quote_prefix, quote_suffix, body, tags, created_at, updated_at)
     SELECT $1, p.id, m.id,
       CASE WHEN g % 2 = 0 THEN 0 END, CASE WHEN g % 2 = 0 THEN 10 END,
       CASE WHEN g % 2 = 0 THEN substr(p.text, 1, 10) END, CASE WHEN g % 2 = 0 THEN '' END,
       CASE WHEN g % 2 = 0 THEN substr(p.text, 11, 64) END,
       'Comment ' || g || ': a reader''s note on this passage, long enough to look like one.',
       CASE WHEN g % 3 = 0 THEN ARRAY['evidence'] ELSE ARRAY[]::text[] END,
       now() - interval '90 minutes' + g * interval '100 ms', now()
     FROM generate_series(1, $2::int) g
     JOIN paragraphs p ON p.n = g % p.total
     JOIN members m ON m.n = g % (SELECT count(*) FROM members)`,
    [seminar.id, ANNOTATIONS - Math.floor(ANNOTATIONS / 10)],
  );
  await db.query(
    `WITH roots AS (SELECT id, paragraph_id, author_id, created_at, row_number() OVER (ORDER BY created_at) AS n
                    FROM annotations WHERE seminar_id = $1)
     INSERT INTO annotations (seminar_id, paragraph_id, author_id, parent_id, body, created_at, updated_at)
     SELECT $1, r.paragraph_id, r.author_id, r.id, 'A reply in the thread.', r.created_at + interval '50 ms', now()
     FROM roots r WHERE r.n <= $2`,
    [seminar.id, Math.floor(ANNOTATIONS / 10)],
  );
  await db.query(
    `WITH base AS (SELECT last_seq FROM seminars WHERE id = $1),
     rows AS (SELECT id, author_id, created_at, row_number() OVER (ORDER BY created_at, id) AS n FROM annotations WHERE seminar_id = $1),
     inserted AS (
       INSERT INTO room_events (seminar_id, seq, type, actor_id, data, created_at)
       SELECT $1, base.last_seq + rows.n, 'annotation:created', rows.author_id, jsonb_build_object('annotationId', rows.id), rows.created_at
       FROM rows, base RETURNING seq)
     UPDATE seminars SET last_seq = (SELECT max(seq) FROM inserted) WHERE id = $1`,
    [seminar.id],
  );
  // Ballots: every member on every prompt, then the prompts closed, with a tally history.
  await db.query(
    `UPDATE prompts SET state = 'closed', opened_at = now() - interval '60 minutes', closed_at = now() - interval '50 minutes'
     WHERE seminar_id = $1`,
    [seminar.id],
  );
  await db.query(
    `WITH members AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM memberships WHERE seminar_id = $1 AND role = 'participant' LIMIT $2)
     INSERT INTO ballots (prompt_id, member_id, client_ballot_id, revision, updated_at)
     SELECT p.id, m.id, gen_random_uuid(), 1 + (m.n % 3 = 0)::int, now() FROM prompts p, members m WHERE p.seminar_id = $1`,
    [seminar.id, MEMBERS],
  );
  await db.query(
    `INSERT INTO ballot_choices (ballot_id, option_id)
     SELECT b.id, o.id FROM ballots b JOIN prompts p ON p.id = b.prompt_id
     JOIN prompt_options o ON o.prompt_id = p.id AND o.position = abs(hashtext(b.member_id::text)) % 3
     WHERE p.seminar_id = $1`,
    [seminar.id],
  );
  await db.query(
    `INSERT INTO tally_snapshots (prompt_id, version, counts, ballots, taken_at)
     SELECT p.id, v, jsonb_object_agg(o.id, v * (o.position + 1)), v, p.opened_at + v * interval '100 ms'
     FROM prompts p JOIN prompt_options o ON o.prompt_id = p.id, generate_series(1, 300) v
     WHERE p.seminar_id = $1 GROUP BY p.id, v`,
    [seminar.id],
  );
  await db.query("ANALYZE");
  await db.end();
  return { seminar, moderator, guest, generatedMs: now() - started };
}

/** One export over HTTP: time, bytes, and the server's peak memory (sampled every 50 ms). */
async function exportOnce(server: ServerProcess, url: string, token: string) {
  await server.gc();
  const baseline = await server.stats(false);
  let peakRss = baseline.rssBytes;
  let peakHeap = baseline.heapUsedBytes;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const stats = await server.stats(false);
      peakRss = Math.max(peakRss, stats.rssBytes);
      peakHeap = Math.max(peakHeap, stats.heapUsedBytes);
      await sleep(50);
    }
  })();
  const started = now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  let bytes = 0;
  let firstByteMs = 0;
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (bytes === 0) firstByteMs = now() - started;
    bytes += value.byteLength;
  }
  const ms = now() - started;
  sampling = false;
  await sampler;
  if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
  return {
    ms,
    firstByteMs,
    bytes,
    rssGrowthMb: (peakRss - baseline.rssBytes) / 2 ** 20,
    heapGrowthMb: (peakHeap - baseline.heapUsedBytes) / 2 ** 20,
  };
}

/** Ack latencies of annotation:create sent 10 times a second for `ms`. */
async function ackLatencies(base: string, token: string, paragraphId: string, ms: number): Promise<number[]> {
  const socket = io(base, {
    auth: { token },
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  const latencies: number[] = [];
  const end = now() + ms;
  const pending: Promise<void>[] = [];
  while (now() < end) {
    const sent = now();
    pending.push(
      socket
        .timeout(30_000)
        .emitWithAck("annotation:create", {
          paragraphId,
          body: "Live note during the bench.",
          clientId: randomUUID(),
        })
        .then((ack: { ok: boolean }) => {
          if (ack.ok) latencies.push(now() - sent);
        }),
    );
    await sleep(100);
  }
  await Promise.all(pending);
  socket.close();
  return latencies;
}

async function main() {
  const database = await createBenchDatabase();
  const server = await ServerProcess.start("app", {
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      JWT_SECRET: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
      MODERATOR_TOKEN_TTL: String(24 * 3600),
      GUEST_TOKEN_TTL: String(24 * 3600),
      TRANSCRIPTS_PER_MINUTE: "1000",
      REDIS_URL: "",
      PUBLIC_URL: "",
    },
    output: "inherit",
  });
  try {
    const { seminar, moderator, guest, generatedMs } = await generate(server.url, database.url);
    console.log(
      `generated ${ANNOTATIONS} annotations, ${BALLOTS} ballots (${MEMBERS} members, ${PROMPTS} prompts) in ${(generatedMs / 1000).toFixed(1)} s`,
    );
    const base = `${server.url}/api/seminars/${seminar.id}/transcript`;
    const runs = [
      "format=json",
      "format=json&anonymized=true",
      "format=md",
      "format=jsonld",
      ...["annotations", "ballots", "tallies", "timeline", "members"].map(
        (table) => `format=csv&table=${table}`,
      ),
      "format=zip",
    ];
    const results: Record<string, Awaited<ReturnType<typeof exportOnce>>> = {};
    for (const query of runs) {
      results[query] = await exportOnce(server, `${base}?${query}`, moderator.token);
      const r = results[query]!;
      console.log(
        `${query}: ${(r.bytes / 2 ** 20).toFixed(1)} MB in ${(r.ms / 1000).toFixed(2)} s (first byte ${r.firstByteMs.toFixed(0)} ms), rss +${r.rssGrowthMb.toFixed(0)} MB, heap +${r.heapGrowthMb.toFixed(0)} MB`,
      );
    }
    const snapshot = await api<{ essay: { paragraphs: { id: string; kind: string }[] } }>(
      server.url,
      "GET",
      `/api/seminars/${seminar.id}`,
      undefined,
      guest.token,
    );
    const paragraphId = snapshot.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;
    const quiet = summarize(await ackLatencies(server.url, guest.token, paragraphId, LATENCY_MS));
    const during = await Promise.all([
      ackLatencies(server.url, guest.token, paragraphId, LATENCY_MS),
      exportOnce(server, `${base}?format=json`, moderator.token),
    ]);
    const busy = summarize(during[0]);
    console.log(
      `ack latency annotation:create: without export p50 ${quiet.p50.toFixed(1)} ms p99 ${quiet.p99.toFixed(1)} ms; ` +
        `during a JSON export p50 ${busy.p50.toFixed(1)} ms p99 ${busy.p99.toFixed(1)} ms (p99 ratio ${(busy.p99 / quiet.p99).toFixed(2)})`,
    );
    mkdirSync("bench/results", { recursive: true });
    const file = `bench/results/transcript-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
    writeFileSync(
      file,
      JSON.stringify(
        {
          annotations: ANNOTATIONS,
          ballots: BALLOTS,
          prompts: PROMPTS,
          results,
          ackLatency: { quiet, during: busy },
        },
        null,
        2,
      ),
    );
    console.log(`wrote ${file}`);
  } finally {
    await server.stop();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
