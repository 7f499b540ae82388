/**
 * `npm run bench`: the load benchmark. Creates and migrates a database of its own on the
 * PostgreSQL server, starts the server under test in a child process (pinned to CPU 0), drives it
 * with simulated participants from worker processes (pinned to the other cores), runs each
 * scenario against the application and against a bare Socket.IO relay (the ceiling), prints a
 * table and writes bench/results/<timestamp>.json. The database is dropped at the end.
 * With `--nodes 2` (or `1,2`) each scenario also runs on two server processes sharing the
 * database and a Redis (keys under a prefix of the run's, deleted at the end), app and relay alike.
 * See bench/README.md.
 */
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { loadConfig } from "../src/config.ts";
import { now } from "./clock.ts";
import { type BenchDatabase, createBenchDatabase } from "./database.ts";
import type { TargetName } from "./messages.ts";
import { type BenchOptions, parseOptions } from "./options.ts";
import { WorkerPool } from "./pool.ts";
import {
  choosePinning,
  openFileLimit,
  type Pinning,
  pinSelf,
  ServerGroup,
  serverEnvironment,
  UsageMeter,
} from "./processes.ts";
import { renderProfile } from "./profile.ts";
import { describeMachine, judgeGoals, renderGoals, renderTable } from "./report.ts";
import { SCENARIO_RUNNERS, type ScenarioResult } from "./scenarios.ts";
import { AppTarget, RelayTarget, type Target } from "./targets.ts";

const RESULTS_DIR = "bench/results";

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The Redis several nodes share: BENCH_REDIS_URL, else REDIS_URL, else the local one. */
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * The keys of one run in the shared Redis: every node of every scenario writes under
 * `<prefix><scenario>-<target>-<nodes>:`, so runs (and scenarios within a run: rate limits,
 * presence) never share a key, and the end of the run deletes everything under the prefix.
 */
class BenchRedis {
  private constructor(
    private readonly client: Redis,
    readonly prefix: string,
  ) {}

  static async connect(): Promise<BenchRedis> {
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.ping();
    } catch (error) {
      client.disconnect();
      throw new Error(
        `several nodes need a Redis: ${REDIS_URL} did not answer (${error instanceof Error ? error.message : String(error)}); set BENCH_REDIS_URL`,
      );
    }
    return new BenchRedis(client, `bench-${process.pid}-${randomBytes(4).toString("hex")}:`);
  }

  /** REDIS_URL and REDIS_PREFIX for the nodes of one scenario run. */
  environment(label: string): NodeJS.ProcessEnv {
    return { REDIS_URL, REDIS_PREFIX: `${this.prefix}${label}:` };
  }

  /** Deletes every key of the run; resolves with how many there were. */
  async clean(): Promise<number> {
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, keys] = await this.client.scan(cursor, "MATCH", `${this.prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) deleted += await this.client.unlink(...keys);
    } while (cursor !== "0");
    return deleted;
  }

  async close(): Promise<void> {
    await this.client.quit();
  }
}

async function runScenarios(
  options: BenchOptions,
  context: {
    db: BenchDatabase;
    pool: WorkerPool;
    redis: BenchRedis | undefined;
    /** Where each node count's servers and generator run (chosen before anything was pinned). */
    pinnings: Map<number, Pinning>;
    env: NodeJS.ProcessEnv;
    output: number;
    profileDir: string | undefined;
  },
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const jwt = loadConfig(context.env).jwt;
  const targets: TargetName[] = options.relay ? ["app", "relay"] : ["app"];
  for (const scenario of options.scenarios) {
    // Exports have no counterpart on a bare relay, and are one server's figures (its memory,
    // its export thread): one node, whatever --nodes says.
    const nodeCounts = scenario === "transcript" ? [1] : options.nodes;
    for (const nodes of nodeCounts) {
      const pinning = context.pinnings.get(nodes)!;
      context.pool.pin(pinning.generator);
      pinSelf(pinning.generator);
      for (const targetName of scenario === "transcript" ? (["app"] as const) : targets) {
        const started = now();
        const label = `${scenario}-${targetName}-${nodes}`;
        log(`${scenario} on ${targetName}${nodes > 1 ? `, ${nodes} nodes` : ""}`);
        const env =
          nodes > 1 && context.redis ? { ...context.env, ...context.redis.environment(label) } : context.env;
        const server = await ServerGroup.start(targetName, {
          cpus: pinning.servers,
          env,
          output: context.output,
        });
        const target: Target =
          targetName === "app"
            ? new AppTarget(server.first.url, context.db.url, jwt)
            : new RelayTarget(server.first.url);
        try {
          const result = await SCENARIO_RUNNERS[scenario]({
            options,
            target,
            server,
            pool: context.pool,
            meter: () =>
              new UsageMeter(
                server,
                context.pool.pids,
                targetName === "app" ? () => context.db.backendPids() : async () => [],
                context.profileDir
                  ? join(
                      context.profileDir,
                      `${scenario}-${targetName}${nodes > 1 ? `-${nodes}nodes` : ""}.cpuprofile`,
                    )
                  : undefined,
              ),
            log,
            databaseUrl: context.db.url,
          });
          results.push(result);
          const headline = result.metrics
            .slice(0, 3)
            .map((metric) => `${metric.label} ${metric.value.toFixed(1)}${metric.unit}`)
            .join(", ");
          log(`    ${headline}; server CPU ${result.usage?.serverCpuPct.toFixed(0)} %`);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          log(`    failed: ${message}`);
          results.push({
            scenario,
            target: targetName,
            nodes,
            params: {},
            metrics: [],
            usage: undefined,
            checks: {},
            details: {},
            error: message,
          });
          await context.pool.closeAll().catch(() => {});
        } finally {
          await target.close();
          await server.stop();
          log(`    (${((now() - started) / 1000).toFixed(1)} s)`);
        }
      }
    }
  }
  return results;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  // Other work on the machine moves every figure: the load average goes with them.
  const loadAtStart = loadavg()[0]!;
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  mkdirSync(RESULTS_DIR, { recursive: true });
  // Chosen before this process is pinned (the cores it may use are then fewer), for each node
  // count and for one node (the transcript scenario runs on one node whatever --nodes says).
  const pinnings = new Map(
    [1, ...options.nodes].map((nodes): [number, Pinning] => [nodes, choosePinning(options.pin, nodes)]),
  );
  const pinningOf = (nodes: number) => pinnings.get(nodes)!;
  pinSelf(pinningOf(options.nodes[0]!).generator);
  const openFiles = openFileLimit();
  const needed = Math.max(
    options.joinParticipants,
    options.voteParticipants,
    options.annotateParticipants,
    options.rooms * options.roomSize,
  );
  const pinningNote = options.nodes
    .map((nodes) => `${nodes} node${nodes > 1 ? "s" : ""}: ${pinningOf(nodes).note}`)
    .join("; ");
  log(`bench ${stamp}: ${pinningNote}; open files ${openFiles.soft} (hard ${openFiles.hard})`);
  if (Number(openFiles.hard) < needed + 200) {
    log(
      `warning: the open-file limit (${openFiles.hard}) is low for ${needed} connections: run \`ulimit -n 65536\` first`,
    );
  }

  // Several nodes share a Redis; the run's keys are deleted at the end.
  const redis = options.nodes.some((nodes) => nodes > 1) ? await BenchRedis.connect() : undefined;
  if (redis) log(`redis ${REDIS_URL}, keys under ${redis.prefix}`);
  const db = await createBenchDatabase();
  log(`database ${db.name} (PostgreSQL ${db.version}) created and migrated`);
  const output = openSync(join(RESULTS_DIR, `${stamp}-processes.log`), "a");
  const profileDir = options.cpuProf ? join(RESULTS_DIR, "profiles", stamp) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  let pool: WorkerPool | undefined;
  const cleanUp = async () => {
    await pool?.stop().catch(() => {});
    await db.drop().catch((error: unknown) => log(`could not drop ${db.name}: ${String(error)}`));
    if (redis) {
      await redis
        .clean()
        .then((keys) => log(`redis: deleted the run's ${keys} keys`))
        .catch((error: unknown) => log(`could not delete the redis keys ${redis.prefix}*: ${String(error)}`));
      await redis.close().catch(() => {});
    }
    closeSync(output);
  };
  const interrupted = () => {
    log("interrupted: cleaning up");
    void cleanUp().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);

  let results: ScenarioResult[];
  try {
    pool = await WorkerPool.start(options.workers, { cpus: pinningOf(options.nodes[0]!).generator, output });
    results = await runScenarios(options, {
      db,
      pool,
      redis,
      pinnings,
      env: serverEnvironment(db.url, randomBytes(32).toString("hex")),
      output,
      profileDir,
    });
  } finally {
    await cleanUp();
  }

  const machine = {
    ...describeMachine({ postgres: db.version, openFiles, pinning: pinningNote }),
    loadAverage: { start: loadAtStart, end: loadavg()[0]! },
  };
  // The goals are stated for one node: judged on the first node count of the run.
  const goalNodes = options.nodes[0]!;
  const goals = judgeGoals(
    results.filter((result) => result.nodes === goalNodes),
    options,
  );
  const table = renderTable(results, options.scenarios, options.nodes);
  const file = join(RESULTS_DIR, `${stamp}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine, options, results, goals }, null, 2)}\n`,
  );
  const out = [
    "",
    `Machine: ${machine.nproc} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres}; ${machine.pinning}`,
    `Load average (1 min): ${machine.loadAverage.start.toFixed(1)} at the start, ${machine.loadAverage.end.toFixed(1)} at the end` +
      (machine.loadAverage.start > 3 || machine.loadAverage.end > 3
        ? ": the machine was busy, absolute figures are not comparable with a quiet run"
        : ""),
    "",
    table,
    "",
    `Goals (${goalNodes === 1 ? "one node" : `${goalNodes} nodes`}):`,
    renderGoals(goals),
    "",
    `Results: ${file}`,
  ];
  if (profileDir) {
    for (const name of readdirSync(profileDir).filter((entry) => entry.endsWith(".cpuprofile"))) {
      out.push("", renderProfile(join(profileDir, name)));
    }
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

main().catch((error: unknown) => {
  log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
