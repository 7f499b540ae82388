/**
 * The transcript scenario (`npm run bench -- --scenarios transcript`, or `npm run
 * bench:transcript` at goal size): a generated session (annotations with their room events,
 * members, prompts with ballots and a tally history, written straight into the bench database as
 * a long session would leave them) exported in every format over HTTP from the real server.
 * Figures: each export's time, size and first byte; the server process's peak resident memory
 * over its level just before the export (read from /proc every 25 ms by the orchestrator, so the
 * sampling costs the server nothing and sees every thread); and the live room's
 * `annotation:create` ack latency (a participant annotating 20 times a second) without an export
 * and during a JSON and a zip export, in ACK_ROUNDS interleaved rounds of the same run, as ratios.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import pg from "pg";
import { io } from "socket.io-client";
import { now, sleep } from "./clock.ts";
import { BENCH_ESSAY } from "./essay.ts";
import { type LatencySummary, summarize } from "./histogram.ts";
import type { BenchOptions } from "./options.ts";
import { processRssBytes, type ServerProcess } from "./processes.ts";
import type { Metric, ScenarioContext, ScenarioResult } from "./scenarios.ts";

/** The exports, in the order they run (the head's label, the query). */
const EXPORTS: [string, string][] = [
  ["json", "format=json"],
  ["json anonymised", "format=json&anonymized=true"],
  ["md", "format=md"],
  ["jsonld", "format=jsonld"],
  ...["annotations", "ballots", "tallies", "timeline", "members"].map((table): [string, string] => [
    `csv ${table}`,
    `format=csv&table=${table}`,
  ]),
  ["zip", "format=zip"],
];

/** The live participant's pace during the latency windows (ms between annotations). */
const ACK_INTERVAL_MS = 50;
/** The window without an export (ms); a window with one lasts as long as its export. */
const QUIET_WINDOW_MS = 5_000;
/**
 * Rounds of (quiet window, JSON export, zip export), each kind's acks pooled over the rounds: about
 * 300 acks per kind, so that p99 is the third-worst ack and not, as with one 5 s window at 10 a
 * second, the second-worst of 50 (which moved 17-43 ms between runs of the quiet window alone). The
 * rounds interleave, so a drift of the machine falls on all three kinds alike.
 */
const ACK_ROUNDS = 3;

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

/** The session through the API (seminar, prompts, start), then its bulk in SQL (also used by ad-hoc profiling). */
export async function generate(
  base: string,
  databaseUrl: string,
  size: { annotations: number; ballots: number; prompts: number },
) {
  const members = Math.ceil(size.ballots / size.prompts);
  const moderator = await api<{ token: string }>(base, "POST", "/api/auth/register", {
    email: `bench-${randomBytes(4).toString("hex")}@example.test`,
    password: "correct horse battery staple",
    displayName: "Bench host",
  });
  const prompts = Array.from({ length: size.prompts }, (_, i) => ({
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
  await db.query(
    `INSERT INTO memberships (seminar_id, role, display_name, created_at)
     SELECT $1, 'participant', 'Reader ' || g, now() - interval '2 hours' + g * interval '1 ms'
     FROM generate_series(1, $2::int) g`,
    [seminar.id, members],
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
    [seminar.id, size.annotations - Math.floor(size.annotations / 10)],
  );
  await db.query(
    `WITH roots AS (SELECT id, paragraph_id, author_id, created_at, row_number() OVER (ORDER BY created_at) AS n
                    FROM annotations WHERE seminar_id = $1)
     INSERT INTO annotations (seminar_id, paragraph_id, author_id, parent_id, body, created_at, updated_at)
     SELECT $1, r.paragraph_id, r.author_id, r.id, 'A reply in the thread.', r.created_at + interval '50 ms', now()
     FROM roots r WHERE r.n <= $2`,
    [seminar.id, Math.floor(size.annotations / 10)],
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
    [seminar.id, members],
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
  return { seminar, moderator, guest, members };
}

/** The server's resident memory, read from /proc every 25 ms: peak since `start`. */
class RssSampler {
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pid: number) {}

  start(): number {
    const level = processRssBytes(this.pid) ?? 0;
    this.peak = level;
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, processRssBytes(this.pid) ?? 0);
    }, 25);
    return level;
  }

  stop(): number {
    clearInterval(this.timer);
    return Math.max(this.peak, processRssBytes(this.pid) ?? 0);
  }
}

/** One export's figures. */
interface ExportFigures {
  ms: number;
  firstByteMs: number;
  bytes: number;
  rssBeforeMb: number;
  rssGrowthMb: number;
}

/**
 * One export over HTTP: time, bytes, and the server's peak memory over its level before it (after
 * a full GC of the server, unless the caller has just had one).
 */
async function exportOnce(
  server: ServerProcess,
  url: string,
  token: string,
  options: { collectFirst: boolean } = { collectFirst: true },
): Promise<ExportFigures> {
  if (options.collectFirst) await server.gc();
  const sampler = new RssSampler(server.pid);
  const before = sampler.start();
  const started = now();
  let bytes = 0;
  let firstByteMs = 0;
  let peak = before;
  try {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`);
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (bytes === 0) firstByteMs = now() - started;
      bytes += value.byteLength;
    }
  } finally {
    peak = sampler.stop();
  }
  return {
    ms: now() - started,
    firstByteMs,
    bytes,
    rssBeforeMb: before / 2 ** 20,
    rssGrowthMb: (peak - before) / 2 ** 20,
  };
}

/**
 * Ack latencies of annotation:create sent every ACK_INTERVAL_MS until `until` resolves and at
 * least `minMs` have passed (acks still on their way are awaited). Refused acks are counted apart.
 */
async function ackLatencies(
  base: string,
  token: string,
  paragraphId: string,
  minMs: number,
  until: Promise<unknown> = Promise.resolve(),
): Promise<{ latencies: number[]; refused: number }> {
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
  let over = false;
  void until.finally(() => {
    over = true;
  });
  const latencies: number[] = [];
  let refused = 0;
  const end = now() + minMs;
  const pending: Promise<void>[] = [];
  while (now() < end || !over) {
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
          else refused++;
        }),
    );
    await sleep(ACK_INTERVAL_MS);
  }
  await Promise.all(pending);
  socket.close();
  return { latencies, refused };
}

/** Sizes of the generated session: goal size with --goals, smaller by default. */
function sizes(options: BenchOptions) {
  return { annotations: options.transcriptAnnotations, ballots: options.transcriptBallots, prompts: 5 };
}

/** The transcript scenario. */
export async function transcriptExports(ctx: ScenarioContext): Promise<ScenarioResult> {
  // One server's exports and memory: run.ts runs this scenario on one node only.
  const server = ctx.server.first;
  const { log } = ctx;
  const size = sizes(ctx.options);
  const started = now();
  const { seminar, moderator, guest, members } = await generate(server.url, ctx.databaseUrl, size);
  log(
    `    generated ${size.annotations} annotations, ${size.ballots} ballots (${members} members) in ${((now() - started) / 1000).toFixed(1)} s`,
  );
  const loadBefore = loadavg();
  const base = `${server.url}/api/seminars/${seminar.id}/transcript`;
  const metrics: Metric[] = [];
  const add = (key: string, label: string, value: number, unit: string, better: Metric["better"]) =>
    metrics.push({ key, label, value, unit, better });

  const meter = ctx.meter();
  await meter.start();
  await server.gc();
  const idleRss = processRssBytes(server.pid) ?? 0;
  // The first download of a server (or after the export threads idled out) also starts a thread:
  // measured on its own (a small table), so the figures below are those of a running server.
  const cold = await exportOnce(server, `${base}?format=csv&table=tallies`, moderator.token);
  log(
    `    first export (cold): ${(cold.ms / 1000).toFixed(2)} s (first byte ${cold.firstByteMs.toFixed(0)} ms), RSS +${cold.rssGrowthMb.toFixed(0)} MB`,
  );
  const exports: Record<string, ExportFigures> = {};
  for (const [label, query] of EXPORTS) {
    const figures = await exportOnce(server, `${base}?${query}`, moderator.token);
    exports[label] = figures;
    log(
      `    ${label}: ${(figures.bytes / 2 ** 20).toFixed(1)} MB in ${(figures.ms / 1000).toFixed(2)} s (first byte ${figures.firstByteMs.toFixed(0)} ms), RSS +${figures.rssGrowthMb.toFixed(0)} MB over ${figures.rssBeforeMb.toFixed(0)} MB`,
    );
  }
  const usage = await meter.stop();
  const peakRss = Math.max(
    cold.rssBeforeMb + cold.rssGrowthMb,
    ...Object.values(exports).map((e) => e.rssBeforeMb + e.rssGrowthMb),
  );
  add("cold_s", "first export on a fresh server (csv tallies): time", cold.ms / 1000, "s", "lower");
  add("cold_first_byte", "first export: first byte", cold.firstByteMs, "ms", "lower");
  add("cold_rss", "first export: server RSS growth", cold.rssGrowthMb, "MB", "lower");
  for (const [label, figures] of Object.entries(exports)) {
    const key = label.replaceAll(" ", "_");
    add(
      `${key}_s`,
      `${label}: time (${(figures.bytes / 2 ** 20).toFixed(1)} MB)`,
      figures.ms / 1000,
      "s",
      "lower",
    );
    add(`${key}_rss`, `${label}: server RSS growth`, figures.rssGrowthMb, "MB", "lower");
  }
  add("rss_over_idle", "server RSS peak over idle, all exports", peakRss - idleRss / 2 ** 20, "MB", "lower");
  add("rss_idle", "server RSS before the first export", idleRss / 2 ** 20, "MB", "none");

  // The live room: a participant annotating without an export, then during a JSON and a zip one.
  const snapshot = await api<{ essay: { paragraphs: { id: string; kind: string }[] } }>(
    server.url,
    "GET",
    `/api/seminars/${seminar.id}`,
    undefined,
    guest.token,
  );
  const paragraphId = snapshot.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;
  const quiet = { latencies: [] as number[], refused: 0 };
  const duringJson = { acks: { latencies: [] as number[], refused: 0 }, downloads: [] as ExportFigures[] };
  const duringZip = { acks: { latencies: [] as number[], refused: 0 }, downloads: [] as ExportFigures[] };
  const during = async (query: string, into: typeof duringJson) => {
    // The forced full GC before an export stops the server's event loop for 60-90 ms: it is
    // done before the window opens, or it would be measured as the export's (it was, until
    // 2026-12-02: two or three of a window's acks waited for it, which is its p99).
    await server.gc();
    const download = exportOnce(server, `${base}?${query}`, moderator.token, { collectFirst: false });
    const acks = await ackLatencies(server.url, guest.token, paragraphId, 0, download);
    into.acks.latencies.push(...acks.latencies);
    into.acks.refused += acks.refused;
    into.downloads.push(await download);
  };
  for (let round = 0; round < ACK_ROUNDS; round++) {
    const window = await ackLatencies(server.url, guest.token, paragraphId, QUIET_WINDOW_MS);
    quiet.latencies.push(...window.latencies);
    quiet.refused += window.refused;
    await during("format=json", duringJson);
    await during("format=zip", duringZip);
  }
  const loadAfter = loadavg();
  const summaries: Record<string, LatencySummary> = {
    quiet: summarize(quiet.latencies),
    json: summarize(duringJson.acks.latencies),
    zip: summarize(duringZip.acks.latencies),
  };
  const q = summaries.quiet!;
  for (const [key, label] of [
    ["quiet", "without an export"],
    ["json", "during a JSON export"],
    ["zip", "during a zip export"],
  ] as const) {
    const s = summaries[key]!;
    add(`ack_${key}_p50`, `annotation:create ack ${label} p50`, s.p50, "ms", "lower");
    add(`ack_${key}_p99`, `annotation:create ack ${label} p99`, s.p99, "ms", "lower");
    if (key !== "quiet") {
      add(`ack_${key}_ratio_p50`, `ack p50 ${label} / without`, s.p50 / q.p50, "×", "lower");
      add(`ack_${key}_ratio_p99`, `ack p99 ${label} / without`, s.p99 / q.p99, "×", "lower");
    }
  }
  log(
    `    ack p50/p99 (${ACK_ROUNDS} rounds; acks ${q.count}/${summaries.json!.count}/${summaries.zip!.count}) without an export ${q.p50.toFixed(1)}/${q.p99.toFixed(1)} ms; during json ${summaries.json!.p50.toFixed(1)}/${summaries.json!.p99.toFixed(1)} ms; during zip ${summaries.zip!.p50.toFixed(1)}/${summaries.zip!.p99.toFixed(1)} ms`,
  );
  return {
    scenario: "transcript",
    target: "app",
    nodes: 1,
    params: {
      annotations: size.annotations,
      ballots: size.ballots,
      members,
      prompts: size.prompts,
      load: `${loadBefore.map((v) => v.toFixed(2)).join(" ")} → ${loadAfter.map((v) => v.toFixed(2)).join(" ")}`,
    },
    metrics,
    usage,
    checks: { refusedAcks: quiet.refused + duringJson.acks.refused + duringZip.acks.refused },
    details: {
      cold,
      exports,
      ackLatency: summaries,
      exportsDuringAcks: { json: duringJson.downloads, zip: duringZip.downloads },
      idleRssMb: idleRss / 2 ** 20,
    },
  };
}
