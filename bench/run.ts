/**
 * `npm run bench`: the load benchmark. Creates and migrates a database of its own on the
 * PostgreSQL server, starts the server under test in a child process (pinned to CPU 0), drives it
 * with simulated participants from worker processes (pinned to the other cores), runs each
 * scenario against the application and against a bare Socket.IO relay (the ceiling), prints a
 * table and writes bench/results/<timestamp>.json. The database is dropped at the end.
 * See bench/README.md.
 */
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../src/config.ts";
import { now } from "./clock.ts";
import { type BenchDatabase, createBenchDatabase } from "./database.ts";
import type { TargetName } from "./messages.ts";
import { type BenchOptions, parseOptions } from "./options.ts";
import { WorkerPool } from "./pool.ts";
import { choosePinning, openFileLimit, pinSelf, ServerProcess, UsageMeter } from "./processes.ts";
import { renderProfile } from "./profile.ts";
import { describeMachine, judgeGoals, renderGoals, renderTable } from "./report.ts";
import { SCENARIO_RUNNERS, type ScenarioResult } from "./scenarios.ts";
import { AppTarget, RelayTarget, type Target } from "./targets.ts";

const RESULTS_DIR = "bench/results";

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The server's environment: its own database, quiet logs, long tokens, no join limit in practice. */
function serverEnvironment(databaseUrl: string, jwtSecret: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    DATABASE_URL: databaseUrl,
    JWT_SECRET: jwtSecret,
    LOG_LEVEL: "warn",
    GUEST_TOKEN_TTL: String(24 * 3600),
    MODERATOR_TOKEN_TTL: String(24 * 3600),
    JOINS_PER_MINUTE_PER_ADDRESS: "100000",
    // The transcript scenario downloads every format as one host, faster than a person would.
    TRANSCRIPTS_PER_MINUTE: "10000",
    HOST: "127.0.0.1",
    PORT: "0",
    SEED_DEMO: "false",
  };
  delete env.REDIS_URL;
  delete env.PUBLIC_URL;
  return env;
}

async function runScenarios(
  options: BenchOptions,
  context: {
    db: BenchDatabase;
    pool: WorkerPool;
    env: NodeJS.ProcessEnv;
    serverCpus: string | undefined;
    output: number;
    profileDir: string | undefined;
  },
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const jwt = loadConfig(context.env).jwt;
  const targets: TargetName[] = options.relay ? ["app", "relay"] : ["app"];
  for (const scenario of options.scenarios) {
    // Exports have no counterpart on a bare relay: their figures are ratios within the run.
    for (const targetName of scenario === "transcript" ? (["app"] as const) : targets) {
      const started = now();
      log(`${scenario} on ${targetName}`);
      const server = await ServerProcess.start(targetName, {
        cpus: context.serverCpus,
        env: context.env,
        output: context.output,
      });
      const target: Target =
        targetName === "app" ? new AppTarget(server.url, context.db.url, jwt) : new RelayTarget(server.url);
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
              context.profileDir && targetName === "app"
                ? join(context.profileDir, `${scenario}-app.cpuprofile`)
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
  return results;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  mkdirSync(RESULTS_DIR, { recursive: true });
  const pinning = choosePinning(options.pin);
  pinSelf(pinning.generator);
  const openFiles = openFileLimit();
  const needed = Math.max(
    options.joinParticipants,
    options.voteParticipants,
    options.annotateParticipants,
    options.rooms * options.roomSize,
  );
  log(`bench ${stamp}: ${pinning.note}; open files ${openFiles.soft} (hard ${openFiles.hard})`);
  if (Number(openFiles.hard) < needed + 200) {
    log(
      `warning: the open-file limit (${openFiles.hard}) is low for ${needed} connections: run \`ulimit -n 65536\` first`,
    );
  }

  const db = await createBenchDatabase();
  log(`database ${db.name} (PostgreSQL ${db.version}) created and migrated`);
  const output = openSync(join(RESULTS_DIR, `${stamp}-processes.log`), "a");
  const profileDir = options.cpuProf ? join(RESULTS_DIR, "profiles", stamp) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  let pool: WorkerPool | undefined;
  const cleanUp = async () => {
    await pool?.stop().catch(() => {});
    await db.drop().catch((error: unknown) => log(`could not drop ${db.name}: ${String(error)}`));
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
    pool = await WorkerPool.start(options.workers, { cpus: pinning.generator, output });
    results = await runScenarios(options, {
      db,
      pool,
      env: serverEnvironment(db.url, randomBytes(32).toString("hex")),
      serverCpus: pinning.server,
      output,
      profileDir,
    });
  } finally {
    await cleanUp();
  }

  const machine = describeMachine({ postgres: db.version, openFiles, pinning: pinning.note });
  const goals = judgeGoals(results, options);
  const table = renderTable(results, options.scenarios);
  const file = join(RESULTS_DIR, `${stamp}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine, options, results, goals }, null, 2)}\n`,
  );
  const out = [
    "",
    `Machine: ${machine.nproc} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres}; ${machine.pinning}`,
    "",
    table,
    "",
    "Goals:",
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
