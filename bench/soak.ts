/**
 * Soak: `npm run soak [-- --minutes M --clients N --warmup-minutes W]` (defaults 20, 20 and 5).
 * Builds the server, runs the built `dist/server/main.js` on a fresh PostgreSQL database, and keeps
 * N clients cycling through rooms (join, connect, snapshot, focus, write, vote, delete, refresh,
 * reconnect, leave; a room is ended and replaced after --room-joins joins) for M minutes; then
 * every client leaves and the soak waits until every per-key window of the rate limits has passed
 * (the quiet phase, --quiet-seconds).
 *
 * The server runs with its inspector open to the soak (`--inspect=127.0.0.1:0`, only here), so
 * the soak can force a full garbage collection and read the heap right after it, at rest (the
 * clients pause between two steps meanwhile, see Gate): what is still reachable, without the
 * garbage that makes the heap in use saw-tooth between collections. It samples RSS, heap in use
 * and handles every --sample-seconds, reads the heap after a full collection every --gc-seconds,
 * and writes three heap snapshots (bench/results/soak-<time>/, deleted after the analysis unless
 * --keep-snapshots): S1 at the end of the warm-up, S2 at the end of the load, S3 after the quiet
 * phase. The objects first seen in S2 that are still alive in S3 were made under load and
 * outlived every client: they are listed by constructor with one retainer chain each
 * (bench/heap-snapshot.ts).
 *
 * It fails (exit code 1) when any bound of BOUNDS is exceeded (their reasoning is in
 * docs/reliability.md) or when any client operation failed. Not part of `npm test`: it takes
 * minutes.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { io, type Socket } from "socket.io-client";
import { createBenchDatabase } from "./database.ts";
import { BENCH_ESSAY } from "./essay.ts";
import { growth, readHeapSnapshot, retainerChain, totalsByKind } from "./heap-snapshot.ts";
import { INSPECTOR_LINE, Inspector, type MemoryUsage } from "./inspector.ts";
import { processRssBytes } from "./processes.ts";

const { values: flags } = parseArgs({
  options: {
    minutes: { type: "string", default: "20" },
    clients: { type: "string", default: "20" },
    "warmup-minutes": { type: "string", default: "5" },
    "sample-seconds": { type: "string", default: "5" },
    "gc-seconds": { type: "string", default: "30" },
    "quiet-seconds": { type: "string", default: "70" },
    "room-joins": { type: "string", default: "200" },
    "keep-snapshots": { type: "boolean", default: false },
    "no-snapshots": { type: "boolean", default: false },
  },
});
const MINUTES = Number(flags.minutes);
const CLIENTS = Number(flags.clients);
const WARMUP_MIN = Number(flags["warmup-minutes"]);
const SAMPLE_MS = Number(flags["sample-seconds"]) * 1000;
const GC_MS = Number(flags["gc-seconds"]) * 1000;
const QUIET_MS = Number(flags["quiet-seconds"]) * 1000;
const ROOM_JOINS = Number(flags["room-joins"]);
const SNAPSHOTS = !flags["no-snapshots"];
if (!(WARMUP_MIN > 0 && MINUTES >= WARMUP_MIN + 5)) {
  throw new Error("--minutes must leave at least 5 minutes after --warmup-minutes to fit a slope");
}

/**
 * What the soak allows; docs/reliability.md ("Soak") gives the reasoning behind each figure.
 * - heapSlopeMbPerMin: slope of the heap in use after a full collection, read at rest, over the
 *   steady phase. Compiled code keeps growing for a while after the warm-up (V8 optimises
 *   functions as they get hot), which the bound leaves room for.
 * - survivorsFixedMb, survivorsKbPerCycle: application objects (not V8's compiled code, shapes or
 *   strings) made during the steady phase and still reachable after the quiet phase: a fixed
 *   allowance for bounded structures that fill late (Prisma's plan cache, its list of closed
 *   transactions) plus an allowance per cycle for what each room keeps in bounded caches.
 * - quietHeapMb: the heap after a full collection once every client has left and every rate
 *   window has passed, above the heap at the end of the warm-up.
 * - rssSlopeMbPerMin: slope of the resident memory after a full collection over the steady phase
 *   (native memory the heap does not show: buffers, sockets).
 * - handlesAfterQuiet: handles once everyone left, above those before the first client came.
 * - minCyclesPerMin: below this the run did too little to judge anything per cycle.
 * After the quiet phase, every count of stepstone_realtime_retained_entries must be zero, except
 * the closes scheduled for the rooms that ended (at most one per ended room).
 */
const BOUNDS = {
  heapSlopeMbPerMin: 0.25,
  survivorsFixedMb: 0.5,
  survivorsKbPerCycle: 0.25,
  quietHeapMb: 2,
  rssSlopeMbPerMin: 1,
  handlesAfterQuiet: 2,
  minCyclesPerMin: 30,
} as const;

/** Rooms one moderator account makes (its importer budget is 60 per 10 minutes). */
const ROOMS_PER_MODERATOR = 50;

const ROOT = new URL("..", import.meta.url).pathname;
const METRICS_TOKEN = "soak-metrics-token-0123456789";

/** A reading every --sample-seconds: what the heap holds now, garbage included. */
interface Sample {
  atMin: number;
  rssMb: number;
  heapMb: number;
  handles: number;
  sockets: number;
  load: number;
}

/** A reading right after a forced full collection. */
interface GcSample {
  atMin: number;
  cycles: number;
  heapMb: number;
  rssMb: number;
  externalMb: number;
  /** In use per space of the V8 heap (MB): where growth lives (compiled code is in code_space). */
  spacesMb: Record<string, number>;
}

const MB = 2 ** 20;

async function run(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { cwd: ROOT, stdio: "inherit" });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${code}`);
}

/**
 * Starts the built server with its inspector on a free port of 127.0.0.1; resolves with its pid,
 * URL, metrics port and inspector session once it listens.
 */
async function startServer(databaseUrl: string) {
  const child = spawn(process.execPath, ["--inspect=127.0.0.1:0", "dist/server/main.js"], {
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
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = createInterface({ input: child.stdout! });
  const errors = createInterface({ input: child.stderr! });
  let port: number | undefined;
  let metricsPort: number | undefined;
  let inspectorUrl: string | undefined;
  const warnings: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const ready = () => {
      if (port !== undefined && metricsPort !== undefined && inspectorUrl !== undefined) resolve();
    };
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before listening`)));
    errors.on("line", (line) => {
      const match = INSPECTOR_LINE.exec(line);
      if (match) inspectorUrl = match[1];
      else if (!line.startsWith("For help, see:")) process.stderr.write(`server: ${line}\n`);
      ready();
    });
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
      ready();
    });
  });
  const inspector = await Inspector.connect(inspectorUrl!);
  return { child, url: `http://127.0.0.1:${port}`, metricsPort: metricsPort!, warnings, inspector };
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
): Promise<{ heapMb: number; handles: number; sockets: number; retained: Record<string, number> }> {
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
    heapMb: value("stepstone_nodejs_heap_size_used_bytes") / MB,
    handles: value("stepstone_nodejs_active_handles_total"),
    sockets: value("stepstone_socket_connections"),
    retained: Object.fromEntries(
      [...text.matchAll(/^stepstone_realtime_retained_entries\{holder="(\w+)"\} ([0-9.e+-]+)$/gm)].map(
        (match) => [match[1]!, Number(match[2])],
      ),
    ),
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** One room of the soak, as its clients see it. */
interface SoakRoom {
  seminarId: string;
  joinCode: string;
  paragraphIds: string[];
  promptId: string;
  optionIds: string[];
  /** The host's socket (it opened the prompt); closed when the room ends. */
  host: Socket;
  /** The host's token (it ends the room). */
  moderatorToken: string;
  /** Clients that entered it, and those inside now. */
  joins: number;
  inside: number;
  retired: boolean;
}

/**
 * The rooms the clients cycle through. Each room takes --room-joins joins; the client that finds
 * it full makes the next room (the others wait for it), and a full room is ended by its host once
 * its last client has left. So the load stays the same all along (a room never grows past a
 * seminar's size, and every snapshot costs about the same), and the server keeps opening and
 * closing rooms as it would over days: what it holds per room must go with the room.
 */
class RoomRotation {
  private current: SoakRoom | undefined;
  private next: Promise<SoakRoom> | undefined;
  created = 0;
  ended = 0;

  private moderator: { token: string; rooms: number } | undefined;

  constructor(
    private readonly url: string,
    private readonly roomJoins: number,
    private readonly onError: (what: string) => void,
  ) {}

  /** The room to join now (making the next one when the current is full). */
  async enter(): Promise<SoakRoom> {
    while (!this.current || this.current.joins >= this.roomJoins) {
      if (!this.next) {
        const retiring = this.current;
        this.next = this.open().finally(() => {
          this.next = undefined;
        });
        const opened = await this.next;
        this.current = opened;
        if (retiring) {
          retiring.retired = true;
          if (retiring.inside === 0) await this.end(retiring);
        }
      } else {
        await this.next;
      }
    }
    const room = this.current;
    room.joins++;
    room.inside++;
    return room;
  }

  /** A client left `room`; the last one out of a full room has it ended. */
  async leave(room: SoakRoom): Promise<void> {
    room.inside--;
    if (room.retired && room.inside === 0) await this.end(room);
  }

  /** Ends every room still open (at the end of the load). */
  async endAll(): Promise<void> {
    if (this.current && !this.current.retired) {
      this.current.retired = true;
      if (this.current.inside === 0) await this.end(this.current);
    }
  }

  private async open(): Promise<SoakRoom> {
    const { url } = this;
    // Each moderator account makes at most ROOMS_PER_MODERATOR rooms, under the importer's
    // budget per account (LIMITS.essayImportsPerAccount), however fast the rooms turn over.
    if (!this.moderator || this.moderator.rooms >= ROOMS_PER_MODERATOR) {
      const registered = await api<{ token: string }>(url, "POST", "/api/auth/register", {
        email: `soak-${randomUUID()}@example.test`,
        password: "correct horse battery staple",
        displayName: "Soak host",
      });
      this.moderator = { token: registered.token, rooms: 0 };
    }
    this.moderator.rooms++;
    const moderatorToken = this.moderator.token;
    const seminar = await api<{ id: string; joinCode: string }>(
      url,
      "POST",
      "/api/seminars",
      {
        title: `Soak ${this.created + 1}`,
        essay: { text: BENCH_ESSAY, format: "markdown" },
        prompts: [{ kind: "single_choice", question: "Which?", options: ["A", "B", "C"] }],
      },
      moderatorToken,
    );
    this.created++;
    await api(url, "POST", `/api/seminars/${seminar.id}/start`, {}, moderatorToken);
    const view = await api<{
      essay: { paragraphs: { id: string; kind: string }[] };
      prompts: { id: string; options: { id: string }[] }[];
    }>(url, "GET", `/api/seminars/${seminar.id}`, undefined, moderatorToken);
    const host = io(url, {
      auth: { token: moderatorToken, seminarId: seminar.id },
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      host.once("connect", resolve);
      host.once("connect_error", reject);
    });
    const prompt = view.prompts[0]!;
    const opened = (await host.timeout(15_000).emitWithAck("prompt:open", { promptId: prompt.id })) as {
      ok: boolean;
    };
    if (!opened.ok) throw new Error("prompt:open failed");
    return {
      seminarId: seminar.id,
      joinCode: seminar.joinCode,
      paragraphIds: view.essay.paragraphs.filter((p) => p.kind === "paragraph").map((p) => p.id),
      promptId: prompt.id,
      optionIds: prompt.options.map((option) => option.id),
      host,
      moderatorToken,
      joins: 0,
      inside: 0,
      retired: false,
    };
  }

  private async end(room: SoakRoom): Promise<void> {
    try {
      await api(this.url, "POST", `/api/seminars/${room.seminarId}/end`, {}, room.moderatorToken);
      this.ended++;
    } catch (error) {
      this.onError(`ending a room: ${(error as Error).message.slice(0, 60)}`);
    } finally {
      room.host.disconnect();
    }
  }
}

/**
 * Lets the soak look at the server at rest while clients stay connected: every client step (a
 * request, a connection, a command and its ack) runs through `step`; `hold` stops new steps,
 * waits for those under way to finish, runs its work (a collection, a heap snapshot) and lets the
 * clients go on. So a reading holds no request half done, and a snapshot pause (seconds on a busy
 * machine) never lands in the middle of a transaction or an acknowledgement timeout.
 */
class Gate {
  private closed: Promise<void> | undefined;
  private running = 0;
  private idle: (() => void) | undefined;

  async step<T>(work: () => Promise<T>): Promise<T> {
    while (this.closed) await this.closed;
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      if (this.running === 0) this.idle?.();
    }
  }

  async hold<T>(work: () => Promise<T>): Promise<T> {
    while (this.closed) await this.closed;
    let open!: () => void;
    this.closed = new Promise((resolve) => {
      open = resolve;
    });
    try {
      if (this.running > 0) {
        await new Promise<void>((resolve) => {
          this.idle = resolve;
        });
        this.idle = undefined;
      }
      return await work();
    } finally {
      this.closed = undefined;
      open();
    }
  }
}

type Counts = {
  cycles: number;
  writes: number;
  reconnects: number;
  kicks: number;
  errors: Record<string, number>;
};

/**
 * One client's life, over and over until `until`: join the current room by code, connect (odd
 * clients by long-polling first and then upgrading, as browsers do; even ones by WebSocket at
 * once), take a snapshot, say which paragraph it reads, write three annotations and a ballot,
 * delete the annotations, every fourth cycle refresh its token, every other cycle drop the
 * connection and reconnect with the same token (catching up with room:sync since), then leave.
 */
async function participant(
  url: string,
  rooms: RoomRotation,
  index: number,
  until: number,
  counts: Counts,
  note: (what: string) => void,
  gate: Gate,
) {
  const ack = async <T = unknown>(socket: Socket, event: string, payload: unknown, what = event) => {
    const answer = (await gate.step(() => socket.timeout(15_000).emitWithAck(event, payload))) as {
      ok: boolean;
      data?: T;
      error?: { code: string };
    };
    if (!answer.ok || answer.data === undefined) {
      note(`${what} ${answer.error?.code}`);
      return undefined;
    }
    return answer.data;
  };
  for (let cycle = 0; Date.now() < until; cycle++) {
    let socket: Socket | undefined;
    let room: SoakRoom | undefined;
    try {
      room = await gate.step(() => rooms.enter());
      const joinCode = room.joinCode;
      const session = await gate.step(() =>
        api<{ token: string; member: { id: string } }>(url, "POST", "/api/seminars/join", {
          code: joinCode,
          displayName: `Soak ${index}.${cycle}`,
        }),
      );
      const open = async () => {
        const next = io(url, {
          auth: { token: session.token },
          transports: index % 2 === 1 ? ["polling", "websocket"] : ["websocket"],
          reconnection: false,
          forceNew: true,
        });
        await new Promise<void>((resolve, reject) => {
          next.once("connect", resolve);
          next.once("connect_error", reject);
        });
        return next;
      };
      socket = await gate.step(open);
      const snapshot = await ack<{ seq: number }>(socket, "room:sync", {});
      let seq = snapshot?.seq ?? 0;
      await ack(socket, "presence:focus", {
        paragraphId: room.paragraphIds[index % room.paragraphIds.length],
      });
      const written: string[] = [];
      for (let i = 0; i < 3; i++) {
        const annotation = await ack<{ id: string }>(socket, "annotation:create", {
          paragraphId: room.paragraphIds[(index + i) % room.paragraphIds.length],
          body: `soak ${index}.${cycle}.${i}`,
          clientId: randomUUID(),
        });
        if (annotation) {
          counts.writes++;
          written.push(annotation.id);
        }
      }
      const ballot = await ack(socket, "prompt:vote", {
        promptId: room.promptId,
        optionIds: [room.optionIds[cycle % room.optionIds.length]],
        clientBallotId: randomUUID(),
      });
      if (ballot) counts.writes++;
      // Delete what this cycle wrote, so that what the room shows stays small.
      for (const annotationId of written.splice(0)) {
        if (await ack(socket, "annotation:delete", { annotationId })) counts.writes++;
      }
      if (cycle % 4 === 3) await ack(socket, "auth:refresh", {});
      if (cycle % 2 === 0) {
        // Drop and come back, catching up from the last seq seen.
        socket.disconnect();
        socket = await gate.step(open);
        const caught = await ack<{ seq: number }>(socket, "room:sync", { since: seq }, "room:sync since");
        if (caught) seq = caught.seq;
        counts.reconnects++;
      }
      if (cycle % 10 === 9) {
        // The host removes this member instead of letting them leave: the server closes the socket.
        const current = socket;
        const closed = new Promise<boolean>((resolve) => {
          if (!current.connected) resolve(true);
          current.once("disconnect", () => resolve(true));
        });
        if (await ack(room.host, "member:kick", { memberId: session.member.id })) {
          const timeout = sleep(15_000).then(() => false);
          if (await gate.step(() => Promise.race([closed, timeout]))) counts.kicks++;
          else note("a kicked member's socket stayed open");
        }
      }
      counts.cycles++;
    } catch (error) {
      note((error as Error).message.slice(0, 80));
    } finally {
      socket?.disconnect();
      const left = room;
      if (left) await gate.step(() => rooms.leave(left));
    }
  }
}

/** Mean, minimum and maximum of some numbers, as text. */
function spread(values: number[]): string {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  return `${mean.toFixed(1)} (${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)})`;
}

async function main() {
  const started = new Date();
  const commit = await commitOf();
  console.log(
    `soak: ${MINUTES} min of load (the first ${WARMUP_MIN} warm-up), ${CLIENTS} clients, then ${QUIET_MS / 1000} s quiet`,
  );
  await run(process.execPath, ["scripts/build.mjs", "--server"]);
  const database = await createBenchDatabase();
  const server = await startServer(database.url);
  const outDir = join(ROOT, "bench", "results", `soak-${started.toISOString().replace(/[:.]/g, "-")}`);
  await mkdir(outDir, { recursive: true });
  const { inspector } = server;
  // Collections, readings and snapshots take turns, each with every client step finished.
  const gate = new Gate();
  const afterGc = () =>
    gate.hold(async () => {
      await inspector.collectGarbage();
      return { memory: await inspector.memoryUsage(), spaces: await inspector.heapSpaces() };
    });
  const snapshot = (name: string) =>
    gate.hold(async () => {
      const path = join(outDir, `${name}.heapsnapshot`);
      const began = Date.now();
      if (SNAPSHOTS) await inspector.writeHeapSnapshot(path);
      else await inspector.collectGarbage();
      const memory = await inspector.memoryUsage();
      console.log(
        `${name}: heap ${(memory.heapUsed / MB).toFixed(2)} MB after a full collection (the snapshot held the server ${((Date.now() - began) / 1000).toFixed(1)} s)`,
      );
      return { path, memory };
    });
  try {
    const counts: Counts = { cycles: 0, writes: 0, reconnects: 0, kicks: 0, errors: {} };
    const errorTimes: string[] = [];
    let t0 = Date.now();
    const minutesSince = () => (Date.now() - t0) / 60_000;
    const note = (what: string) => {
      counts.errors[what] = (counts.errors[what] ?? 0) + 1;
      if (errorTimes.length < 20) errorTimes.push(`${minutesSince().toFixed(2)} min: ${what}`);
    };
    const rooms = new RoomRotation(server.url, ROOM_JOINS, note);
    // The first room, so that what the server holds before the first client includes one room.
    await rooms.enter().then((room) => rooms.leave(room));
    const handlesBefore = (await readMetrics(server.metricsPort)).handles;
    const memoryBefore = (await afterGc()).memory;

    t0 = Date.now();
    const samples: Sample[] = [];
    const gcSamples: GcSample[] = [];
    const sampler = setInterval(() => {
      void readMetrics(server.metricsPort)
        .then((metrics) => {
          const sample = {
            atMin: minutesSince(),
            rssMb: (processRssBytes(server.child.pid!) ?? 0) / MB,
            load: loadavg()[0]!,
            ...metrics,
          };
          samples.push(sample);
          console.log(
            `${sample.atMin.toFixed(2)} min: rss ${sample.rssMb.toFixed(1)} MB, heap ${sample.heapMb.toFixed(1)} MB, handles ${sample.handles}, sockets ${sample.sockets}, cycles ${counts.cycles}, writes ${counts.writes}, rooms ${rooms.created}, errors ${errorTimes.length}, load ${sample.load.toFixed(1)}`,
          );
        })
        .catch((error: Error) => console.log(`sample failed: ${error.message}`));
    }, SAMPLE_MS);
    const gcTimer = setInterval(() => {
      void afterGc()
        .then(({ memory, spaces }) => {
          const sample = {
            atMin: minutesSince(),
            cycles: counts.cycles,
            heapMb: memory.heapUsed / MB,
            rssMb: memory.rss / MB,
            externalMb: memory.external / MB,
            spacesMb: Object.fromEntries(Object.entries(spaces).map(([name, bytes]) => [name, bytes / MB])),
          };
          gcSamples.push(sample);
          console.log(
            `${sample.atMin.toFixed(2)} min, after a full collection: heap ${sample.heapMb.toFixed(2)} MB, rss ${sample.rssMb.toFixed(1)} MB, external ${sample.externalMb.toFixed(1)} MB`,
          );
        })
        .catch((error: Error) => console.log(`collection failed: ${error.message}`));
    }, GC_MS);

    const until = t0 + MINUTES * 60_000;
    const clients = Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => participant(server.url, rooms, i, until, counts, note, gate)),
    );
    await sleep(t0 + WARMUP_MIN * 60_000 - Date.now());
    const s1 = await snapshot("s1");
    const cyclesAtWarmup = counts.cycles;
    await sleep(until - Date.now());
    const s2 = await snapshot("s2");
    const cyclesAtEnd = counts.cycles;
    await clients;
    clearInterval(gcTimer);
    await rooms.endAll();
    // Every client has left; the rate limits' keys (the longest window is a minute) expire now.
    await sleep(QUIET_MS);
    const s3 = await snapshot("s3");
    const quietMetrics = await readMetrics(server.metricsPort);
    clearInterval(sampler);

    const report = judge({
      counts,
      samples,
      gcSamples,
      cyclesAtWarmup,
      cyclesAtEnd,
      handlesBefore,
      memoryBefore,
      s1: s1.memory,
      s3: s3.memory,
      quietHandles: quietMetrics.handles,
      quietSockets: quietMetrics.sockets,
      quietRetained: quietMetrics.retained,
      warnings: server.warnings,
      errorTimes,
      rooms,
    });
    // The analysis needs memory: the server goes first.
    await stopServer(server);
    if (SNAPSHOTS) report.lines.push(...(await analyseSnapshots(s1.path, s2.path, s3.path, report)));
    console.log(
      [
        "",
        `soak ${started.toISOString()} (commit ${commit}): ${MINUTES} min of load, ${WARMUP_MIN} min warm-up, ${CLIENTS} clients, then ${QUIET_MS / 1000} s quiet`,
        ...report.lines,
        report.failed.length === 0 ? "PASS" : `FAIL: ${report.failed.join("; ")}`,
      ].join("\n"),
    );
    if (SNAPSHOTS && !flags["keep-snapshots"]) {
      for (const { path } of [s1, s2, s3]) await rm(path, { force: true });
    }
    process.exitCode = report.failed.length === 0 ? 0 : 1;
  } finally {
    await stopServer(server);
    await database.drop();
  }
}

/** Ends the inspector session (Node waits for it before exiting) and stops the server. */
async function stopServer(server: { child: ReturnType<typeof spawn>; inspector: Inspector }): Promise<void> {
  server.inspector.close();
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill("SIGTERM");
  await new Promise((resolve) => server.child.once("exit", resolve));
}

async function commitOf(): Promise<string> {
  const child = spawn("git", ["describe", "--always", "--dirty", "--abbrev=7"], { cwd: ROOT });
  let out = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  await new Promise((resolve) => child.once("exit", resolve));
  return out.trim() || "unknown";
}

interface Judged {
  lines: string[];
  failed: string[];
  steadyCycles: number;
}

/** Compares what the run measured with BOUNDS. */
function judge(run: {
  counts: Counts;
  samples: Sample[];
  gcSamples: GcSample[];
  cyclesAtWarmup: number;
  cyclesAtEnd: number;
  handlesBefore: number;
  memoryBefore: MemoryUsage;
  s1: MemoryUsage;
  s3: MemoryUsage;
  quietHandles: number;
  quietSockets: number;
  quietRetained: Record<string, number>;
  warnings: string[];
  errorTimes: string[];
  rooms: RoomRotation;
}): Judged {
  const failed: string[] = [];
  const steadyMinutes = MINUTES - WARMUP_MIN;
  const steadyCycles = run.cyclesAtEnd - run.cyclesAtWarmup;
  const cyclesPerMin = steadyCycles / steadyMinutes;
  const steady = run.gcSamples.filter((s) => s.atMin >= WARMUP_MIN && s.atMin <= MINUTES);
  const heapSlope = slope(steady.map((s) => ({ x: s.atMin, y: s.heapMb })));
  const rssSlope = slope(steady.map((s) => ({ x: s.atMin, y: s.rssMb })));
  const quietGrowthMb = (run.s3.heapUsed - run.s1.heapUsed) / MB;
  const handlesGrowth = run.quietHandles - run.handlesBefore;
  const errorCount = Object.values(run.counts.errors).reduce((sum, n) => sum + n, 0);
  const retainedOk =
    Object.keys(run.quietRetained).length > 0 &&
    Object.entries(run.quietRetained).every(([holder, count]) =>
      holder === "notifierCloses" ? count <= run.rooms.ended : count === 0,
    );
  const check = (ok: boolean, what: string) => {
    if (!ok) failed.push(what);
    return ok ? "ok" : "EXCEEDED";
  };
  const load = run.samples.map((s) => s.load);
  const first = steady[0];
  const last = steady.at(-1);
  const lines = [
    `load average (1 min) over the run: mean ${spread(load)}`,
    `cycles ${run.counts.cycles} (join, connect, snapshot, focus, 3 annotations, 1 ballot, 3 deletes, a token refresh every fourth, a reconnect with room:sync since every other, leave or every tenth a kick by the host), ${steadyCycles} after warm-up (${cyclesPerMin.toFixed(0)} a minute); writes ${run.counts.writes}, reconnects ${run.counts.reconnects}, kicks ${run.counts.kicks}, rooms ${run.rooms.created} (${run.rooms.ended} ended), errors ${JSON.stringify(run.counts.errors)}, server warnings ${run.warnings.length}`,
    ...run.errorTimes.map((line) => `  error at ${line}`),
    ...run.warnings.slice(0, 5).map((line) => `  server warning: ${line.slice(0, 300)}`),
    `heap after a full collection: ${(run.memoryBefore.heapUsed / MB).toFixed(2)} MB before the clients, ${(run.s1.heapUsed / MB).toFixed(2)} MB at the end of warm-up, ${(run.s3.heapUsed / MB).toFixed(2)} MB after the quiet phase`,
    `steady phase, ${steady.length} readings after a full collection: heap ${first?.heapMb.toFixed(2)} → ${last?.heapMb.toFixed(2)} MB, rss ${first?.rssMb.toFixed(1)} → ${last?.rssMb.toFixed(1)} MB, external ${first?.externalMb.toFixed(1)} → ${last?.externalMb.toFixed(1)} MB`,
    `  by heap space: ${Object.keys(first?.spacesMb ?? {})
      .map((space) => {
        const spaceSlope = slope(steady.map((s) => ({ x: s.atMin, y: s.spacesMb[space] ?? 0 })));
        return `${space} ${first?.spacesMb[space]?.toFixed(2)} → ${last?.spacesMb[space]?.toFixed(2)} MB (${spaceSlope >= 0 ? "+" : ""}${spaceSlope.toFixed(3)}/min)`;
      })
      .join(", ")}`,
    `heap slope ${heapSlope.toFixed(3)} MB/min (bound ${BOUNDS.heapSlopeMbPerMin}): ${check(heapSlope <= BOUNDS.heapSlopeMbPerMin, `heap slope ${heapSlope.toFixed(3)} MB/min`)}`,
    `  per cycle ${cyclesPerMin > 0 ? ((heapSlope * 1024) / cyclesPerMin).toFixed(3) : "∞"} KB at ${cyclesPerMin.toFixed(0)} cycles a minute (bound ${BOUNDS.minCyclesPerMin} cycles a minute at least): ${check(cyclesPerMin >= BOUNDS.minCyclesPerMin, `${cyclesPerMin.toFixed(0)} cycles a minute, too few to judge`)}`,
    `rss slope ${rssSlope.toFixed(2)} MB/min (bound ${BOUNDS.rssSlopeMbPerMin}): ${check(rssSlope <= BOUNDS.rssSlopeMbPerMin, `rss slope ${rssSlope.toFixed(2)} MB/min`)}`,
    `heap after the quiet phase minus at the end of warm-up ${quietGrowthMb.toFixed(2)} MB (bound ${BOUNDS.quietHeapMb}): ${check(quietGrowthMb <= BOUNDS.quietHeapMb, `quiet heap +${quietGrowthMb.toFixed(2)} MB`)}`,
    `handles ${run.handlesBefore} before the clients, ${run.quietHandles} after the quiet phase (bound +${BOUNDS.handlesAfterQuiet}), sockets left ${run.quietSockets}: ${check(handlesGrowth <= BOUNDS.handlesAfterQuiet && run.quietSockets === 0, `handles +${handlesGrowth}, sockets ${run.quietSockets}`)}`,
    `realtime entries after the quiet phase ${JSON.stringify(run.quietRetained)} (all zero but notifierCloses, at most ${run.rooms.ended} for the rooms ended): ${check(retainedOk, `realtime entries left ${JSON.stringify(run.quietRetained)}`)}`,
    `client errors ${errorCount}: ${check(errorCount === 0 && run.counts.cycles > 0, `${errorCount} client errors`)}`,
  ];
  return { lines, failed, steadyCycles };
}

/**
 * V8's own objects: compiled code, hidden classes and their caches, strings and numbers. They
 * outlive the load when functions are optimised late or a string is interned, and say nothing
 * about the application; application objects (objects, closures, arrays) are what a leak holds.
 */
function isEngineKind(kind: string): boolean {
  return /^\((code|hidden|object shape|synthetic|native|string|number|heap number|bigint|symbol)\)|^system \/ /.test(
    kind,
  );
}

/** What S3 holds that S2 saw first and S1 did not: made under load, alive after everyone left. */
async function analyseSnapshots(s1Path: string, s2Path: string, s3Path: string, report: Judged) {
  const s1 = await readHeapSnapshot(s1Path);
  const s1Max = s1.maxId;
  const s1Totals = totalsByKind(s1);
  const s2Max = (await readHeapSnapshot(s2Path)).maxId;
  const s3 = await readHeapSnapshot(s3Path);
  const range = { afterId: s1Max, upToId: s2Max };
  const survivors = [...totalsByKind(s3, range)].sort((a, b) => b[1].bytes - a[1].bytes);
  const sum = (rows: typeof survivors) => ({
    count: rows.reduce((total, [, t]) => total + t.count, 0),
    bytes: rows.reduce((total, [, t]) => total + t.bytes, 0),
  });
  const application = survivors.filter(([kind]) => !isEngineKind(kind));
  const all = sum(survivors);
  const own = sum(application);
  const allowedMb = BOUNDS.survivorsFixedMb + (BOUNDS.survivorsKbPerCycle * report.steadyCycles) / 1024;
  const ownMb = own.bytes / MB;
  const lines = [
    `objects made between S1 and S2 and alive in S3: ${all.count} (${(all.bytes / MB).toFixed(2)} MB); application objects among them ${own.count} (${ownMb.toFixed(2)} MB, bound ${BOUNDS.survivorsFixedMb} MB + ${BOUNDS.survivorsKbPerCycle} KB × ${report.steadyCycles} cycles = ${allowedMb.toFixed(2)} MB): ${ownMb <= allowedMb ? "ok" : "EXCEEDED"}`,
  ];
  if (ownMb > allowedMb) report.failed.push(`application survivors ${ownMb.toFixed(2)} MB`);
  lines.push("  by kind (all):");
  for (const [kind, total] of survivors.slice(0, 8)) {
    lines.push(`    ${total.count} × ${kind}, ${(total.bytes / 1024).toFixed(1)} KB`);
  }
  lines.push("  application objects by kind, and what keeps one of each of the largest:");
  for (const [kind, total] of application.slice(0, 15)) {
    lines.push(`    ${total.count} × ${kind}, ${(total.bytes / 1024).toFixed(1)} KB`);
  }
  for (const [kind] of application.slice(0, 6)) {
    lines.push(`    ${retainerChain(s3, kind, range)}`);
  }
  lines.push("  largest changes per kind from S1 to S3 (bytes):");
  for (const change of growth(s1Totals, totalsByKind(s3)).slice(0, 8)) {
    lines.push(
      `    ${change.kind}: ${change.count >= 0 ? "+" : ""}${change.count} objects, ${(change.bytes / 1024).toFixed(1)} KB`,
    );
  }
  return lines;
}

await main();
