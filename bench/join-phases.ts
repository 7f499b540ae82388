/**
 * `npx tsx bench/join-phases.ts`: the server's CPU per join, by step. A join storm interleaves the
 * three steps of every join (HTTP join by code, socket connect with the token, `room:sync`), so its
 * profile cannot say what each costs; here each step runs for every guest before the next starts,
 * at a fixed concurrency, and the server's own CPU time (/proc/<pid>/stat) over each step is
 * divided by the joins. Run against the application and the bare relay, each on a fresh server
 * pinned as in `npm run bench`; the first round warms both the server and this generator and is
 * reported apart (cold), the second is the measurement. See bench/README.md.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config.ts";
import { sleep } from "./clock.ts";
import { createBenchDatabase } from "./database.ts";
import { LightClient } from "./light-client.ts";
import type { TargetName } from "./messages.ts";
import { choosePinning, pinSelf, processCpuMs, ServerProcess, serverEnvironment } from "./processes.ts";
import { AppTarget, RelayTarget, type Target } from "./targets.ts";

const STEPS = ["HTTP join", "socket connect", "room:sync"] as const;
type Step = (typeof STEPS)[number];

/** One step of one round: the server's CPU per join and the joins per second it reached. */
interface StepFigure {
  cpuMsPerJoin: number;
  perSecond: number;
}

type Round = Record<Step, StepFigure>;

interface Guest {
  token: string;
  seminarId: string;
  client?: LightClient;
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/** The server's CPU per item and the items per second over `work`. */
async function measure(pid: number, items: number, work: () => Promise<void>): Promise<StepFigure> {
  const cpuBefore = processCpuMs(pid);
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = processCpuMs(pid);
  if (cpuBefore === undefined || cpuAfter === undefined) throw new Error("the server process exited");
  return { cpuMsPerJoin: (cpuAfter - cpuBefore) / items, perSecond: items / seconds };
}

async function joinByCode(url: string, code: string, displayName: string): Promise<Guest> {
  const response = await fetch(`${url}/api/seminars/join`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code, displayName }),
  });
  const body = (await response.json()) as
    | { ok: true; data: { token: string; seminar: { id: string } } }
    | { ok: false; error: { code: string; message: string } };
  if (!body.ok) throw new Error(`join: ${body.error.code}: ${body.error.message}`);
  return { token: body.data.token, seminarId: body.data.seminar.id };
}

/** One round: every guest joins, then every guest connects, then every guest syncs. */
async function round(
  server: ServerProcess,
  code: string,
  label: string,
  joins: number,
  concurrency: number,
): Promise<Round> {
  const names = Array.from({ length: joins }, (_, i) => `${label} ${i + 1}`);
  const guests: Guest[] = [];
  const joined = await measure(server.pid, joins, () =>
    inParallel(names, concurrency, async (name) => {
      guests.push(await joinByCode(server.url, code, name));
    }),
  );
  const connected = await measure(server.pid, joins, () =>
    inParallel(guests, concurrency, async (guest) => {
      const client = new LightClient(server.url, () => {});
      await client.connect({ token: guest.token, seminarId: guest.seminarId });
      guest.client = client;
    }),
  );
  const synced = await measure(server.pid, joins, () =>
    inParallel(guests, concurrency, async (guest) => {
      const answer = await guest.client!.emit("room:sync", {}, 30_000);
      if (!answer.includes('"ok":true')) throw new Error(`room:sync: ${answer.slice(0, 200)}`);
    }),
  );
  for (const guest of guests) guest.client?.close();
  return { "HTTP join": joined, "socket connect": connected, "room:sync": synced };
}

/** A bad flag: said in one line, without a stack. */
class UsageError extends Error {}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      joins: { type: "string", default: "1000" },
      concurrency: { type: "string", default: "300" },
      "cpu-prof": { type: "boolean", default: false },
    },
  });
  const joins = Number(values.joins);
  const concurrency = Number(values.concurrency);
  if (!(Number.isInteger(joins) && joins > 0 && Number.isInteger(concurrency) && concurrency > 0)) {
    throw new UsageError("--joins and --concurrency take positive whole numbers");
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const pinning = choosePinning(true);
  pinSelf(pinning.generator);
  const db = await createBenchDatabase();
  const env = serverEnvironment(db.url, randomBytes(32).toString("hex"));
  const results: Partial<Record<TargetName, { cold: Round; warm: Round }>> = {};
  try {
    for (const name of ["app", "relay"] as const) {
      const server = await ServerProcess.start(name, { cpus: pinning.servers[0], env, output: "inherit" });
      const target: Target =
        name === "app" ? new AppTarget(server.url, db.url, loadConfig(env).jwt) : new RelayTarget(server.url);
      try {
        const room = await target.createRoom(0, { participants: 0, prompt: false, seedAnnotations: 0 });
        const cold = await round(server, room.code, "Cold", joins, concurrency);
        // Let the closed connections leave presence before the measured round.
        await sleep(2_000);
        // --cpu-prof: the application's measured round, profiled (bench/profile.ts summarises it).
        const profile =
          values["cpu-prof"] && name === "app" ? `${stamp}-join-phases-app.cpuprofile` : undefined;
        if (profile) await server.startProfile();
        const warm = await round(server, room.code, "Warm", joins, concurrency);
        if (profile) {
          mkdirSync("bench/results/profiles", { recursive: true });
          await server.stopProfile(`bench/results/profiles/${profile}`);
          process.stdout.write(`profile: bench/results/profiles/${profile}\n`);
        }
        results[name] = { cold, warm };
      } finally {
        await target.close();
        await server.stop();
      }
    }
  } finally {
    await db.drop();
  }
  const { app, relay } = results as Required<typeof results>;
  const cell = (figure: StepFigure) =>
    `${figure.cpuMsPerJoin.toFixed(2)} ms (${figure.perSecond.toFixed(0)}/s)`;
  const total = (r: Round) => STEPS.reduce((sum, step) => sum + r[step].cpuMsPerJoin, 0);
  const lines = [
    `Server CPU per join, by step (${joins} joins, ${concurrency} at once; ${pinning.note})`,
    "",
    "| step | app, warm | relay, warm | app / relay | app, cold | relay, cold |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...STEPS.map(
      (step) =>
        `| ${step} | ${cell(app.warm[step])} | ${cell(relay.warm[step])} | ${(app.warm[step].cpuMsPerJoin / relay.warm[step].cpuMsPerJoin).toFixed(2)} | ${cell(app.cold[step])} | ${cell(relay.cold[step])} |`,
    ),
    `| whole join | ${total(app.warm).toFixed(2)} ms | ${total(relay.warm).toFixed(2)} ms | ${(total(app.warm) / total(relay.warm)).toFixed(2)} | ${total(app.cold).toFixed(2)} ms | ${total(relay.cold).toFixed(2)} ms |`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/${stamp}-join-phases.json`;
  writeFileSync(file, JSON.stringify({ joins, concurrency, pinning: pinning.note, results }, null, 2));
  process.stdout.write(`\nResults: ${file}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const said =
      error instanceof UsageError ? error.message : error instanceof Error ? error.stack : undefined;
    process.stderr.write(`${said ?? String(error)}\n`);
    process.exit(1);
  },
);
