// `npm run bench:start`: how long from `npm start` until /readyz answers 200.
//
//   npm run bench:start                    # 5 runs of each case, with the tsx baseline
//   npm run bench:start -- --runs 3 --no-baseline
//
// Cases: the embedded database on a fresh DATA_DIR (first start), the same DATA_DIR again (restart),
// and PostgreSQL (a fresh database on POSTGRES_URL's server, migrated by the start). The baseline
// runs the same sources with `tsx src/main.ts` (what `npm start` ran before the build, minus npm's
// own start-up), interleaved with the compiled runs so both see the same machine load. Ports are
// picked free at run time; every server is stopped with SIGTERM and must exit 0.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1]) || 5;
const withBaseline = !args.includes("--no-baseline");
const postgresUrl = process.env.POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

type Launcher = "npm start" | "tsx src/main.ts";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function launch(launcher: Launcher, env: Record<string, string>): ChildProcess {
  const [command, ...rest] =
    launcher === "npm start" ? ["npm", "start"] : [join(root, "node_modules/.bin/tsx"), "src/main.ts"];
  return spawn(command!, rest, {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "warn", SHUTDOWN_DRAIN_MS: "0", ...env },
    stdio: ["ignore", "ignore", "pipe"],
    // Its own process group, so the baseline's tsx child can be stopped with it.
    detached: true,
  });
}

/**
 * CPU seconds (user + system) used so far by a process and its descendants, from /proc (Linux):
 * unlike wall time it hardly depends on what else runs on the machine.
 */
async function treeCpuSeconds(rootPid: number): Promise<number> {
  const ticksPerSecond = 100; // USER_HZ on Linux
  const stats = new Map<number, { parent: number; ticks: number }>();
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    // Fields after the command name (in parentheses, may contain spaces): state, ppid, …, utime (14), stime (15).
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    if (fields.length < 13) continue;
    stats.set(Number(name), { parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
  }
  let total = 0;
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    total += stats.get(pid)?.ticks ?? 0;
    for (const [child, stat] of stats) if (stat.parent === pid) pending.push(child);
  }
  return total / ticksPerSecond;
}

async function isReady(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts the server, measures the milliseconds until /readyz is 200 and the CPU the process tree
 * used until then, then stops it with SIGTERM.
 */
async function timeStart(
  launcher: Launcher,
  env: Record<string, string>,
): Promise<{ ms: number; cpuSeconds: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = launch(launcher, { ...env, PORT: String(port), HOST: "127.0.0.1" });
  let errors = "";
  child.stderr?.on("data", (chunk) => (errors += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  while (!(await isReady(port))) {
    if (exitedEarly) throw new Error(`${launcher} exited before it was ready:\n${errors}`);
    if (performance.now() - started > 120_000) throw new Error(`${launcher} not ready after 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const elapsed = performance.now() - started;
  const cpuSeconds = await treeCpuSeconds(child.pid!);
  child.kill("SIGTERM");
  const code = await exited;
  if (launcher === "npm start" && code !== 0) throw new Error(`npm start exited with ${code} after SIGTERM`);
  if (launcher !== "npm start") {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // The group is gone already.
    }
  }
  return { ms: elapsed, cpuSeconds };
}

async function withAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

async function freshDatabaseUrl(created: string[]): Promise<string> {
  const name = `stepstone_startbench_${process.pid}_${randomBytes(4).toString("hex")}`;
  await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
  created.push(name);
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const seconds = (ms: number) => (ms / 1000).toFixed(2);

async function main(): Promise<void> {
  const buildStarted = performance.now();
  execFileSync(process.execPath, ["scripts/build.mjs", "--server"], { cwd: root, stdio: "ignore" });
  const buildMs = performance.now() - buildStarted;

  const launchers: Launcher[] = withBaseline ? ["npm start", "tsx src/main.ts"] : ["npm start"];
  const results = new Map<string, { ms: number; cpuSeconds: number }[]>();
  const record = (key: string, run: { ms: number; cpuSeconds: number }) =>
    results.set(key, [...(results.get(key) ?? []), run]);
  const databases: string[] = [];
  const folders: string[] = [];
  const loadBefore = loadavg()[0]!;
  try {
    for (let run = 1; run <= runs; run++) {
      for (const launcher of launchers) {
        const dataDir = await mkdtemp(join(tmpdir(), "stepstone-startbench-"));
        folders.push(dataDir);
        record(`${launcher}|first start, embedded`, await timeStart(launcher, { DATA_DIR: dataDir }));
        record(`${launcher}|restart, embedded`, await timeStart(launcher, { DATA_DIR: dataDir }));
        record(
          `${launcher}|PostgreSQL, fresh database`,
          await timeStart(launcher, { DATA_DIR: dataDir, DATABASE_URL: await freshDatabaseUrl(databases) }),
        );
      }
      process.stderr.write(`run ${run}/${runs} done\n`);
    }
  } finally {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
    for (const name of databases) {
      await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    }
  }

  const lines = [
    `Start-up, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${runs} runs each,` +
      ` load average ${loadBefore.toFixed(1)} before and ${loadavg()[0]!.toFixed(1)} after;` +
      ` build (bundle, template when stale) ${seconds(buildMs)} s`,
    "",
    "| case | launcher | median | min | max | CPU used (median) |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const [key, runsOfCase] of results) {
    const [launcher, label] = key.split("|");
    const values = runsOfCase.map((run) => run.ms);
    const cpu = median(runsOfCase.map((run) => run.cpuSeconds));
    lines.push(
      `| ${label} | \`${launcher}\` | ${seconds(median(values))} s | ${seconds(Math.min(...values))} s | ${seconds(Math.max(...values))} s | ${cpu.toFixed(2)} s |`,
    );
  }
  console.log(lines.join("\n"));
}

await main();
