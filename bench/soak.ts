/**
 * Soak: `npm run soak [-- --minutes M --clients N --sample-seconds S]`. Builds the server, runs
 * the built `dist/server/main.js` on a fresh PostgreSQL database, and keeps N clients joining,
 * writing, leaving and reconnecting for M minutes. Every S seconds it samples the server's
 * resident memory (/proc), heap in use and active handles (its own /metrics on the metrics port).
 * After a warm-up (the first fifth), it fits a line through each series' floor (its minimum per
 * half minute) and fails (exit code 1) when one grows faster than its bound (SLOPE_BOUNDS,
 * documented in docs/reliability.md), or when any client operation failed. Not part of `npm test`:
 * it takes minutes.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { io, type Socket } from "socket.io-client";
import { createBenchDatabase } from "./database.ts";
import { BENCH_ESSAY } from "./essay.ts";
import { processRssBytes } from "./processes.ts";

const { values: flags } = parseArgs({
  options: {
    minutes: { type: "string", default: "3" },
    clients: { type: "string", default: "40" },
    "sample-seconds": { type: "string", default: "5" },
  },
});
const MINUTES = Number(flags.minutes);
const CLIENTS = Number(flags.clients);
const SAMPLE_MS = Number(flags["sample-seconds"]) * 1000;

/**
 * Growth allowed per minute after warm-up. Generous on purpose: a leak of one socket's state per
 * cycle (about 50 KB) at this load grows the heap by tens of MB a minute; V8's heap breathes by a
 * few MB between collections, so a smaller bound would fail on noise.
 */
const SLOPE_BOUNDS = { rssMb: 8, heapMb: 4, handles: 2 } as const;

/** The window whose minimum stands for a series (see below), in minutes. */
const WINDOW_MIN = 0.5;

const ROOT = new URL("..", import.meta.url).pathname;
const METRICS_TOKEN = "soak-metrics-token-0123456789";

interface Sample {
  atMin: number;
  rssMb: number;
  heapMb: number;
  handles: number;
  sockets: number;
}

async function run(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { cwd: ROOT, stdio: "inherit" });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${code}`);
}

/** Starts the built server; resolves with its pid, URL and metrics port once it listens. */
async function startServer(databaseUrl: string) {
  const child = spawn(process.execPath, ["dist/server/main.js"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      DATABASE_URL: databaseUrl,
      HOST: "127.0.0.1",
      PORT: "0",
      METRICS_PORT: "0",
      METRICS_TOKEN,
      JWT_SECRET: "soak-secret-soak-secret-soak-secret-0001",
      JOINS_PER_MINUTE_PER_ADDRESS: "100000",
      SEED_DEMO: "false",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  let port: number | undefined;
  let metricsPort: number | undefined;
  const warnings: string[] = [];
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before listening`)));
    lines.on("line", (line) => {
      let entry: { msg?: string; port?: number; metricsPort?: number; level?: number };
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.msg === "listening") port = entry.port;
      if (entry.msg === "metrics listening") metricsPort = entry.metricsPort;
      if ((entry.level ?? 0) >= 40) warnings.push(line);
      if (port !== undefined && metricsPort !== undefined) resolve();
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, metricsPort: metricsPort!, warnings };
}

async function api<T>(url: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const parsed = (await response.json()) as { ok: boolean; data: T; error?: { code: string } };
  if (!parsed.ok) throw new Error(`${method} ${path}: ${parsed.error?.code}`);
  return parsed.data;
}

/** Reads the numbers the soak follows from the server's /metrics. */
async function readMetrics(
  metricsPort: number,
): Promise<{ heapMb: number; handles: number; sockets: number }> {
  const text = await (
    await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    })
  ).text();
  const value = (name: string) => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "m").exec(text);
    if (!match) throw new Error(`no ${name} in /metrics`);
    return Number(match[1]);
  };
  return {
    heapMb: value("stepstone_nodejs_heap_size_used_bytes") / 2 ** 20,
    handles: value("stepstone_nodejs_active_handles_total"),
    sockets: value("stepstone_socket_connections"),
  };
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((sum, p) => sum + p.x, 0) / n;
  const my = points.reduce((sum, p) => sum + p.y, 0) / n;
  const num = points.reduce((sum, p) => sum + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((sum, p) => sum + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/**
 * One participant's life, over and over until `until`: join by code, connect, take a snapshot,
 * write three annotations and a ballot, delete the annotations, every other time drop the
 * connection and reconnect with the same token (catching up with room:sync since), then leave.
 */
async function participant(
  url: string,
  room: { joinCode: string; paragraphIds: string[]; promptId: string; optionIds: string[] },
  index: number,
  until: number,
  counts: { cycles: number; writes: number; reconnects: number; errors: Record<string, number> },
) {
  const note = (what: string) => {
    counts.errors[what] = (counts.errors[what] ?? 0) + 1;
  };
  for (let cycle = 0; Date.now() < until; cycle++) {
    let socket: Socket | undefined;
    try {
      const session = await api<{ token: string }>(url, "POST", "/api/seminars/join", {
        code: room.joinCode,
        displayName: `Soak ${index}.${cycle}`,
      });
      const open = async () => {
        const next = io(url, {
          auth: { token: session.token },
          transports: ["websocket"],
          reconnection: false,
          forceNew: true,
        });
        await new Promise<void>((resolve, reject) => {
          next.once("connect", resolve);
          next.once("connect_error", reject);
        });
        return next;
      };
      socket = await open();
      const snapshot = (await socket.timeout(15_000).emitWithAck("room:sync", {})) as {
        ok: boolean;
        data: { seq: number };
      };
      if (!snapshot.ok) note("room:sync");
      let seq = snapshot.ok ? snapshot.data.seq : 0;
      const written: string[] = [];
      for (let i = 0; i < 3; i++) {
        const ack = (await socket.timeout(15_000).emitWithAck("annotation:create", {
          paragraphId: room.paragraphIds[(index + i) % room.paragraphIds.length],
          body: `soak ${index}.${cycle}.${i}`,
          clientId: randomUUID(),
        })) as { ok: boolean; error?: { code: string } };
        if (ack.ok) {
          counts.writes++;
          written.push((ack as unknown as { data: { id: string } }).data.id);
        } else note(`annotation:create ${ack.error?.code}`);
      }
      const ballot = (await socket.timeout(15_000).emitWithAck("prompt:vote", {
        promptId: room.promptId,
        optionIds: [room.optionIds[cycle % room.optionIds.length]],
        clientBallotId: randomUUID(),
      })) as { ok: boolean; error?: { code: string } };
      if (ballot.ok) counts.writes++;
      else note(`prompt:vote ${ballot.error?.code}`);
      // Delete what this cycle wrote, so that the room's visible content stays the same size and
      // what grows is only what must (the log, the member list).
      for (const annotationId of written.splice(0)) {
        const ack = (await socket.timeout(15_000).emitWithAck("annotation:delete", { annotationId })) as {
          ok: boolean;
          error?: { code: string };
        };
        if (ack.ok) counts.writes++;
        else note(`annotation:delete ${ack.error?.code}`);
      }
      if (cycle % 2 === 0) {
        // Drop and come back, catching up from the last seq seen.
        socket.disconnect();
        socket = await open();
        const caught = (await socket.timeout(15_000).emitWithAck("room:sync", { since: seq })) as {
          ok: boolean;
          data: { seq: number };
        };
        if (caught.ok) seq = caught.data.seq;
        else note("room:sync since");
        counts.reconnects++;
      }
      counts.cycles++;
    } catch (error) {
      note((error as Error).message.slice(0, 80));
    } finally {
      socket?.disconnect();
    }
  }
}

async function main() {
  const started = new Date();
  console.log(`soak: ${MINUTES} min, ${CLIENTS} clients, a sample every ${SAMPLE_MS / 1000} s`);
  await run(process.execPath, ["scripts/build.mjs", "--server"]);
  const database = await createBenchDatabase();
  const server = await startServer(database.url);
  try {
    const moderator = await api<{ token: string }>(server.url, "POST", "/api/auth/register", {
      email: `soak-${Date.now()}@example.test`,
      password: "correct horse battery staple",
      displayName: "Soak host",
    });
    const seminar = await api<{ id: string; joinCode: string }>(
      server.url,
      "POST",
      "/api/seminars",
      {
        title: "Soak",
        essay: { text: BENCH_ESSAY, format: "markdown" },
        prompts: [{ kind: "single_choice", question: "Which?", options: ["A", "B", "C"] }],
      },
      moderator.token,
    );
    await api(server.url, "POST", `/api/seminars/${seminar.id}/start`, {}, moderator.token);
    const snapshot = await api<{
      essay: { paragraphs: { id: string; kind: string }[] };
      prompts: { id: string; options: { id: string }[] }[];
    }>(server.url, "GET", `/api/seminars/${seminar.id}`, undefined, moderator.token);
    const host = io(server.url, {
      auth: { token: moderator.token, seminarId: seminar.id },
      transports: ["websocket"],
      forceNew: true,
    });
    const prompt = snapshot.prompts[0]!;
    await new Promise<void>((resolve) => host.once("connect", () => resolve()));
    const opened = (await host.timeout(15_000).emitWithAck("prompt:open", { promptId: prompt.id })) as {
      ok: boolean;
    };
    if (!opened.ok) throw new Error("prompt:open failed");
    const room = {
      joinCode: seminar.joinCode,
      paragraphIds: snapshot.essay.paragraphs.filter((p) => p.kind === "paragraph").map((p) => p.id),
      promptId: prompt.id,
      optionIds: prompt.options.map((option) => option.id),
    };

    const until = Date.now() + MINUTES * 60_000;
    const counts = { cycles: 0, writes: 0, reconnects: 0, errors: {} as Record<string, number> };
    const t0 = Date.now();
    const samples: Sample[] = [];
    const sampler = setInterval(() => {
      void readMetrics(server.metricsPort).then((metrics) => {
        const sample = {
          atMin: (Date.now() - t0) / 60_000,
          rssMb: (processRssBytes(server.child.pid!) ?? 0) / 2 ** 20,
          ...metrics,
        };
        samples.push(sample);
        console.log(
          `${sample.atMin.toFixed(2)} min: rss ${sample.rssMb.toFixed(1)} MB, heap ${sample.heapMb.toFixed(1)} MB, handles ${sample.handles}, sockets ${sample.sockets}, cycles ${counts.cycles}, writes ${counts.writes}`,
        );
      });
    }, SAMPLE_MS);
    await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => participant(server.url, room, i, until, counts)),
    );
    clearInterval(sampler);
    host.disconnect();

    // After warm-up and before the clients stop. The heap in use is sampled between collections,
    // so it saw-tooths by tens of MB: each series is reduced to its floor (minimum) per window of
    // WINDOW_MIN, which is what a leak raises, and the line is fitted through the floors.
    const steady = samples.filter((sample) => sample.atMin >= MINUTES / 5 && sample.atMin <= MINUTES);
    const windows = new Map<number, Sample[]>();
    for (const sample of steady) {
      const key = Math.floor(sample.atMin / WINDOW_MIN);
      windows.set(key, [...(windows.get(key) ?? []), sample]);
    }
    const floors = [...windows.values()].map((group) => ({
      atMin: group.reduce((sum, s) => sum + s.atMin, 0) / group.length,
      rssMb: Math.min(...group.map((s) => s.rssMb)),
      heapMb: Math.min(...group.map((s) => s.heapMb)),
      handles: Math.min(...group.map((s) => s.handles)),
    }));
    const slopeOf = (key: "rssMb" | "heapMb" | "handles") =>
      slope(floors.map((s) => ({ x: s.atMin, y: s[key] })));
    const slopes = { rssMb: slopeOf("rssMb"), heapMb: slopeOf("heapMb"), handles: slopeOf("handles") };
    const failed = (Object.keys(SLOPE_BOUNDS) as (keyof typeof SLOPE_BOUNDS)[]).filter(
      (key) => slopes[key] > SLOPE_BOUNDS[key],
    );
    const first = floors[0]!;
    const last = floors.at(-1)!;
    const load = (await import("node:os"))
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(", ");
    console.log(
      [
        "",
        `soak ${started.toISOString()}: ${MINUTES} min, ${CLIENTS} clients, load average at the end ${load}`,
        `cycles ${counts.cycles} (join, connect, snapshot, 3 annotations, 1 ballot, 3 deletes, every other cycle a reconnect with room:sync since, leave), writes ${counts.writes}, reconnects ${counts.reconnects}, errors ${JSON.stringify(counts.errors)}`,
        `floors of ${floors.length} windows of ${WINDOW_MIN} min after warm-up (${steady.length} samples): rss ${first.rssMb.toFixed(1)} → ${last.rssMb.toFixed(1)} MB, heap ${first.heapMb.toFixed(1)} → ${last.heapMb.toFixed(1)} MB, handles ${first.handles} → ${last.handles}`,
        `slopes per minute: rss ${slopes.rssMb.toFixed(2)} MB (bound ${SLOPE_BOUNDS.rssMb}), heap ${slopes.heapMb.toFixed(2)} MB (bound ${SLOPE_BOUNDS.heapMb}), handles ${slopes.handles.toFixed(2)} (bound ${SLOPE_BOUNDS.handles})`,
        `server warnings: ${server.warnings.length}`,
        failed.length === 0 ? "PASS" : `FAIL: ${failed.join(", ")} grew faster than the bound`,
      ].join("\n"),
    );
    const errorCount = Object.values(counts.errors).reduce((sum, n) => sum + n, 0);
    process.exitCode = failed.length === 0 && errorCount === 0 && counts.cycles > 0 ? 0 : 1;
  } finally {
    server.child.kill("SIGTERM");
    await new Promise((resolve) => server.child.once("exit", resolve));
    await database.drop();
  }
}

await main();
