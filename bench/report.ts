/**
 * Turns scenario results into the printed table (Markdown, so it can be pasted into
 * docs/benchmarks.md as is), the ratios to the bare relay, the goals verdicts and the machine's
 * description.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, release, totalmem } from "node:os";
import type { BenchOptions, ScenarioName } from "./options.ts";
import { nodeName, type ResourceUsage } from "./processes.ts";
import type { Metric, ScenarioResult } from "./scenarios.ts";

/** The machine a run happened on. */
export interface MachineDescription {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  postgres: string;
  openFiles: { soft: string; hard: string };
  pinning: string;
}

/** Reads nproc, the CPU model, memory, kernel and Node's version. */
export function describeMachine(extra: {
  postgres: string;
  openFiles: { soft: string; hard: string };
  pinning: string;
}): MachineDescription {
  let nproc = availableParallelism();
  try {
    // --all: this process may already be pinned to one core.
    nproc = Number(execFileSync("nproc", ["--all"]).toString().trim()) || nproc;
  } catch {
    // nproc missing: availableParallelism is the same number.
  }
  const model = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? "unknown";
  return {
    nproc,
    cpuModel: model,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    ...extra,
  };
}

/** A metric's value on the app divided by the relay's (NaN when either is missing or zero). */
export function ratio(app: Metric | undefined, relay: Metric | undefined): number {
  if (!app || !relay || relay.value === 0 || !Number.isFinite(app.value) || !Number.isFinite(relay.value)) {
    return Number.NaN;
  }
  return app.value / relay.value;
}

/** Formats a number for the table: thousands separators, fewer decimals as it grows. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  const digits = abs >= 100 || Number.isInteger(value) ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function withUnit(metric: Metric | undefined): string {
  if (!metric) return "–";
  const number = formatNumber(metric.value);
  return metric.unit && number !== "–" ? `${number} ${metric.unit}` : number;
}

/** The resource rows every scenario shows. */
function usageMetrics(usage: ResourceUsage | undefined): Metric[] {
  if (!usage) return [];
  const metric = (key: string, label: string, value: number, unit: string): Metric => ({
    key,
    label,
    value,
    unit,
    better: "none",
  });
  const rows = [
    metric(
      "server_cpu",
      usage.nodeCpuPct.length > 1 ? "server CPU, all nodes (of one core)" : "server CPU (of one core)",
      usage.serverCpuPct,
      "%",
    ),
    ...(usage.nodeCpuPct.length > 1
      ? usage.nodeCpuPct.map((cpu, node) =>
          metric(`node${nodeName(node)}_cpu`, `node ${nodeName(node)} CPU (of one core)`, cpu, "%"),
        )
      : []),
    metric("server_rss", "server RSS peak", usage.serverRssPeakMb, "MB"),
    metric("server_loop_p99", "server event-loop delay p99", usage.serverLoopDelayP99Ms, "ms"),
    metric("generator_cpu", "generator CPU (workers + orchestrator)", usage.generatorCpuPct, "%"),
  ];
  if (usage.dbCpuPct !== undefined)
    rows.push(metric("db_cpu", "PostgreSQL CPU (bench backends)", usage.dbCpuPct, "%"));
  usage.coreBusyPct.forEach((busy, core) => {
    rows.push(metric(`core${core}_busy`, `CPU ${core} busy (all processes)`, busy, "%"));
  });
  rows.push(metric("other_cpu", "other processes on the machine", usage.otherCpuPct, "%"));
  return rows;
}

/**
 * The printed table: one block of rows per scenario, app | relay | app/relay, and those three
 * columns again for each further node count of the run (`--nodes 1,2`).
 */
export function renderTable(results: ScenarioResult[], scenarios: ScenarioName[], nodeCounts = [1]): string {
  const plural = (nodes: number) => (nodes === 1 ? "1 node" : `${nodes} nodes`);
  const suffix = (nodes: number) => (nodeCounts.length > 1 || nodes > 1 ? `, ${plural(nodes)}` : "");
  const header = nodeCounts.flatMap((nodes) => [
    `app${suffix(nodes)}`,
    `relay${suffix(nodes)}`,
    `app / relay${suffix(nodes)}`,
  ]);
  const lines = [
    `| scenario | metric | ${header.join(" | ")} |`,
    `| --- | --- | ${header.map(() => "---:").join(" | ")} |`,
  ];
  const blank = `|${" |".repeat(3 * nodeCounts.length)}`;
  for (const scenario of scenarios) {
    const runs = nodeCounts.map((nodes) => {
      const pick = (target: "app" | "relay") =>
        results.find(
          (result) => result.scenario === scenario && result.target === target && result.nodes === nodes,
        );
      return { nodes, app: pick("app"), relay: pick("relay") };
    });
    const base = runs.map((run) => run.app ?? run.relay).find((result) => result !== undefined);
    if (!base) continue;
    const params = Object.entries(base.params)
      .filter(([, value]) => typeof value === "number" || typeof value === "string")
      .slice(0, 4)
      .map(([key, value]) => `${key}=${value}`)
      .join(", ");
    let first = true;
    const label = () => {
      const text = first ? `**${scenario}** (${params})` : "";
      first = false;
      return text;
    };
    for (const run of runs) {
      for (const failed of [run.app, run.relay]) {
        if (failed?.error)
          lines.push(
            `| ${label()} | **${failed.target}${suffix(run.nodes)} failed**: ${failed.error.replaceAll("|", "/")} ${blank}`,
          );
      }
    }
    const columns = runs.map((run) => ({
      app: [...(run.app?.metrics ?? []), ...usageMetrics(run.app?.usage)],
      relay: [...(run.relay?.metrics ?? []), ...usageMetrics(run.relay?.usage)],
    }));
    const keys = [
      ...new Set(columns.flatMap((column) => [...column.app, ...column.relay]).map((metric) => metric.key)),
    ];
    for (const key of keys) {
      let shown: Metric | undefined;
      const cells = columns.flatMap((column) => {
        const a = column.app.find((metric) => metric.key === key);
        const r = column.relay.find((metric) => metric.key === key);
        shown ??= a ?? r;
        const metric = a ?? r;
        const unitless = !metric || metric.unit === "%" || metric.better === "none";
        return [withUnit(a), withUnit(r), unitless ? "" : formatNumber(ratio(a, r))];
      });
      lines.push(`| ${label()} | ${shown?.label ?? key} | ${cells.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

/** A goal and where the run stands against it. */
export interface GoalVerdict {
  goal: string;
  status: "met" | "missed" | "not measured";
  /** Whether the run was at the goal's size. */
  atGoalSize: boolean;
  measured: string;
}

function find(results: ScenarioResult[], scenario: ScenarioName, target: "app" | "relay", key: string) {
  return results
    .find((result) => result.scenario === scenario && result.target === target)
    ?.metrics.find((metric) => metric.key === key)?.value;
}

function checksOf(results: ScenarioResult[], scenario: ScenarioName): Record<string, unknown> | undefined {
  return results.find((result) => result.scenario === scenario && result.target === "app")?.checks;
}

/** Judges the run against the product's goals; below goal size the verdict says so. */
export function judgeGoals(results: ScenarioResult[], options: BenchOptions): GoalVerdict[] {
  const verdicts: GoalVerdict[] = [];
  const ran = (scenario: ScenarioName) =>
    results.some((result) => result.scenario === scenario && result.target === "app" && !result.error);
  const app = (scenario: ScenarioName, key: string) => find(results, scenario, "app", key);
  const relay = (scenario: ScenarioName, key: string) => find(results, scenario, "relay", key);
  /** A goal on the ratio app ÷ relay of one metric (`at most` or `at least` the bound). */
  const ratioGoal = (
    scenario: ScenarioName,
    key: string,
    goal: string,
    bound: { atMost: number } | { atLeast: number },
    atGoalSize: boolean,
    note = "",
  ) => {
    if (!ran(scenario))
      return verdicts.push({ goal, status: "not measured", atGoalSize: false, measured: "" });
    const a = app(scenario, key);
    const r = relay(scenario, key);
    const value = a !== undefined && r ? a / r : Number.NaN;
    const met = "atMost" in bound ? value <= bound.atMost : value >= bound.atLeast;
    verdicts.push({
      goal,
      status: r === undefined ? "not measured" : met ? "met" : "missed",
      atGoalSize,
      measured: `app ${formatNumber(a)}, relay ${formatNumber(r)}: ${formatNumber(value)}×${note ? `; ${note}` : ""}`,
    });
  };

  const join1000 = options.joinParticipants >= 1000;
  // Whether the generator could drive the storm, for each target (see the scenario's log line).
  const generatorOf = (target: "app" | "relay") => {
    const checks = results.find((result) => result.scenario === "join" && result.target === target)?.checks;
    if (!checks || checks.generatorWithinLimit === undefined) return "";
    return `${target}: generator ${checks.generatorWithinLimit ? "below its limit" : "AT ITS LIMIT"} (CPU ${formatNumber(Number(checks.generatorCpuPct))} %, start lag p99 ${formatNumber(Number(checks.generatorSendLagP99Ms))} ms)`;
  };
  const generatorNote = [generatorOf("app"), generatorOf("relay")].filter(Boolean).join("; ");
  ratioGoal(
    "join",
    "joins_per_s",
    "join storm 1,000 over 1 s: joins per second ≥ 0.8× relay",
    { atLeast: 0.8 },
    join1000,
    generatorNote,
  );
  ratioGoal(
    "join",
    "join_total_p99",
    "join storm 1,000: join→snapshot p99 ≤ 2× relay",
    { atMost: 2 },
    join1000,
    generatorNote,
  );

  // Failed joins and set-ups (connect + snapshot) of every scenario that ran on the application.
  const failures: string[] = [];
  for (const result of results) {
    if (result.target !== "app" || result.error) continue;
    const failed =
      result.scenario === "join"
        ? Number(result.checks.failed ?? 0)
        : Number((result.checks.setup as { failed?: unknown } | undefined)?.failed ?? 0) +
          // The hall's reconnect storm: each reconnection is a connect and a room:sync.
          Number((result.checks.rejoin as { failed?: unknown } | undefined)?.failed ?? 0);
    failures.push(`${result.scenario} ${failed}`);
  }
  const failedTotal = failures.reduce((sum, item) => sum + Number(item.split(" ")[1]), 0);
  verdicts.push({
    goal: "failed joins or snapshots at any size the bench runs: 0",
    status: failures.length === 0 ? "not measured" : failedTotal === 0 ? "met" : "missed",
    atGoalSize: true,
    measured: failures.join(", "),
  });

  const vote1000 = options.voteParticipants >= 1000;
  ratioGoal(
    "vote",
    "ballots_per_s",
    "vote burst 1,000: ballots acked per second ≥ 0.95× relay",
    { atLeast: 0.95 },
    vote1000,
  );
  ratioGoal("vote", "vote_ack_p99", "vote burst 1,000: ack p99 ≤ 5× relay", { atMost: 5 }, vote1000);
  if (ran("vote")) {
    const p99 = app("vote", "final_tally_p99") ?? Number.NaN;
    const share = app("vote", "final_tally_clients_pct") ?? 0;
    const checks = checksOf(results, "vote");
    const stored = checks?.everyBallotStored === true && checks?.tallyMatchesStored === true;
    verdicts.push({
      goal: "vote burst at 1,000: every client holds the final tally within 1 s (p99) of the last ballot, every ballot stored",
      status: p99 <= 1000 && share >= 100 && stored ? "met" : "missed",
      atGoalSize: vote1000,
      measured:
        `N=${options.voteParticipants}: final tally p99 ${formatNumber(p99)} ms after the last ballot, ` +
        `${formatNumber(share)} % of clients got it, stored ${String(checks?.storedBallots)} of ${options.voteParticipants}` +
        `, tally ${checks?.tallyMatchesStored ? "matches" : "does not match"} the stored ballots`,
    });
  }

  const hall5000 = options.hallParticipants >= 5000;
  if (ran("hall")) {
    const checks = checksOf(results, "hall");
    const connected = app("hall", "hall_connected") ?? 0;
    verdicts.push({
      goal: "one room of 5,000 participants on one node (generator on the other core): all connected",
      status: connected >= options.hallParticipants ? "met" : "missed",
      atGoalSize: hall5000,
      measured:
        `${connected} of ${options.hallParticipants}; generator ` +
        (checks?.generatorWithinLimit ? "below its limit" : "AT ITS LIMIT") +
        ` (CPU ${formatNumber(Number(checks?.generatorCpuPct))} %, send lag p99 ${formatNumber(Number(checks?.generatorSendLagP99Ms))} ms)`,
    });
  } else
    verdicts.push({ goal: "one room of 5,000", status: "not measured", atGoalSize: false, measured: "" });
  ratioGoal(
    "hall",
    "hall_delivery_p99",
    "5,000: annotation fan-out delivery p99 ≤ 2× relay",
    { atMost: 2 },
    hall5000,
  );
  if (ran("hall")) {
    const p99 = app("hall", "hall_final_tally_p99") ?? Number.NaN;
    const checks = checksOf(results, "hall");
    const stored = checks?.everyBallotStored === true && checks?.tallyMatchesStored === true;
    verdicts.push({
      goal: "5,000: vote burst, final tally at every client after the last ballot p99 ≤ 1 s, every ballot stored",
      status:
        p99 <= 1000 && (app("hall", "hall_final_tally_clients_pct") ?? 0) >= 100 && stored ? "met" : "missed",
      atGoalSize: hall5000,
      measured: `final tally p99 ${formatNumber(p99)} ms, stored ${String(checks?.storedBallots)} of ${String(checks?.clients)}, tally ${checks?.tallyMatchesStored ? "matches" : "does not match"} the stored ballots`,
    });
  }
  ratioGoal(
    "hall",
    "hall_heap_per_client_kb",
    "heap per idle connection ≤ 1.2× relay",
    { atMost: 1.2 },
    hall5000,
  );

  ratioGoal(
    "annotate",
    "delivery_p99",
    "annotation fan-out at 500 participants and 20/s: p99 delivery within twice the bare relay's p99",
    { atMost: 2 },
    options.annotateParticipants >= 500 && options.annotationRate >= 20,
  );
  if (ran("rooms")) {
    const p99 = app("rooms", "ack_all_p99") ?? Number.NaN;
    verdicts.push({
      goal: "50 rooms of 20 participants, mixed workload: p99 ack latency under 100 ms",
      status: p99 < 100 ? "met" : "missed",
      atGoalSize: options.rooms >= 50 && options.roomSize >= 20,
      measured: `${options.rooms}×${options.roomSize}: ack p99 ${formatNumber(p99)} ms`,
    });
  } else verdicts.push({ goal: "50 rooms of 20", status: "not measured", atGoalSize: false, measured: "" });

  if (ran("transcript")) {
    const metric = (key: string) => find(results, "transcript", "app", key) ?? Number.NaN;
    const jsonSeconds = metric("json_s");
    const growth = Math.max(
      ...(results.find((r) => r.scenario === "transcript" && r.target === "app")?.metrics ?? [])
        .filter((m) => m.key.endsWith("_rss") && m.key !== "cold_rss")
        .map((m) => m.value),
    );
    const ratios = ["ack_json_ratio_p50", "ack_json_ratio_p99", "ack_zip_ratio_p50", "ack_zip_ratio_p99"].map(
      metric,
    );
    const atSize = options.transcriptAnnotations >= 20_000 && options.transcriptBallots >= 100_000;
    verdicts.push({
      goal: "transcript of 20,000 annotations and 100,000 ballots: JSON in under 5 s",
      status: jsonSeconds < 5 ? "met" : "missed",
      atGoalSize: atSize,
      measured: `JSON in ${formatNumber(jsonSeconds)} s`,
    });
    verdicts.push({
      goal: "transcript exports: server memory growth under 100 MB (each format, export thread running)",
      status: growth < 100 ? "met" : "missed",
      atGoalSize: atSize,
      measured: `largest growth ${formatNumber(growth)} MB; first export (thread start) ${formatNumber(metric("cold_rss"))} MB; peak over idle ${formatNumber(metric("rss_over_idle"))} MB`,
    });
    verdicts.push({
      goal: "live room's ack latency during an export at most 1.5× without one (p50 and p99)",
      status: ratios.every((value) => value <= 1.5) ? "met" : "missed",
      atGoalSize: atSize,
      measured: `during JSON ${formatNumber(ratios[0])}× / ${formatNumber(ratios[1])}×, during zip ${formatNumber(ratios[2])}× / ${formatNumber(ratios[3])}× (p50 / p99)`,
    });
  } else
    verdicts.push({ goal: "transcript exports", status: "not measured", atGoalSize: false, measured: "" });
  return verdicts;
}

/** The goals as printed lines. */
export function renderGoals(verdicts: GoalVerdict[]): string {
  return verdicts
    .map((verdict) => {
      const size =
        verdict.status === "not measured" || verdict.atGoalSize ? "" : " (below goal size: indicative only)";
      return `- ${verdict.status.toUpperCase()}${size}: ${verdict.goal}${verdict.measured ? `\n    ${verdict.measured}` : ""}`;
    })
    .join("\n");
}
