/**
 * The generator: a pool of worker processes (bench/worker.ts) sharing the simulated participants
 * round-robin by index, and the merging of their reports into one.
 */
import type { ChildProcess } from "node:child_process";
import { now } from "./clock.ts";
import { Histogram } from "./histogram.ts";
import type {
  ClientSpec,
  ConnectReport,
  JoinReport,
  JoinSpec,
  PlannedAction,
  PlanReport,
  RejoinReport,
  RejoinSpec,
  WorkerCommand,
  WorkerMessage,
  WorkerReport,
} from "./messages.ts";
import { nextMessage, ofType, pinProcess, spawnNode } from "./processes.ts";

/** Merged figures of all workers, with histograms rebuilt. */
export interface MergedReport {
  acks: Map<
    string,
    { sent: number; ok: number; errors: Record<string, number>; latency: Histogram; lag: Histogram }
  >;
  roomAcks: Map<number, Histogram>;
  delivery: Histogram;
  /** Deliveries between participants on the same node, and across nodes. */
  deliverySameNode: Histogram;
  deliveryCrossNode: Histogram;
  roomDelivery: Map<number, Histogram>;
  /** Per annotation: [latest receipt latency over all participants (ms), receipts]. */
  perMessage: Map<string, [number, number]>;
  tallies: WorkerReport["tallies"];
  /** "promptId@version" -> counts. */
  tallyCounts: Map<string, Record<string, number>>;
  received: Record<string, number>;
  bytesReceived: number;
  order: WorkerReport["order"];
  checkers: WorkerReport["checkers"];
  disconnects: number;
  connected: number;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) + value;
}

/** Merges workers' reports. */
export function mergeReports(reports: WorkerReport[]): MergedReport {
  const merged: MergedReport = {
    acks: new Map(),
    roomAcks: new Map(),
    delivery: new Histogram(),
    deliverySameNode: new Histogram(),
    deliveryCrossNode: new Histogram(),
    roomDelivery: new Map(),
    perMessage: new Map(),
    tallies: [],
    tallyCounts: new Map(),
    received: {},
    bytesReceived: 0,
    order: { events: 0, gaps: 0, stale: 0 },
    checkers: { clients: 0, acksChecked: 0, acksMalformed: 0, gapSyncs: 0, applied: 0 },
    disconnects: 0,
    connected: 0,
  };
  const histogramIn = (map: Map<number, Histogram>, key: number) => {
    let histogram = map.get(key);
    if (!histogram) {
      histogram = new Histogram();
      map.set(key, histogram);
    }
    return histogram;
  };
  for (const report of reports) {
    for (const [tag, stats] of Object.entries(report.acks)) {
      let into = merged.acks.get(tag);
      if (!into) {
        into = { sent: 0, ok: 0, errors: {}, latency: new Histogram(), lag: new Histogram() };
        merged.acks.set(tag, into);
      }
      into.sent += stats.sent;
      into.ok += stats.ok;
      addCounts(into.errors, stats.errors);
      into.latency.merge(stats.latency);
      into.lag.merge(stats.lag);
    }
    for (const [room, data] of Object.entries(report.roomAcks))
      histogramIn(merged.roomAcks, Number(room)).merge(data);
    merged.delivery.merge(report.delivery);
    merged.deliverySameNode.merge(report.deliverySameNode);
    merged.deliveryCrossNode.merge(report.deliveryCrossNode);
    for (const [room, data] of Object.entries(report.roomDelivery)) {
      histogramIn(merged.roomDelivery, Number(room)).merge(data);
    }
    for (const [key, [latest, receipts]] of Object.entries(report.perMessage)) {
      const entry = merged.perMessage.get(key);
      if (entry) {
        entry[0] = Math.max(entry[0], latest);
        entry[1] += receipts;
      } else merged.perMessage.set(key, [latest, receipts]);
    }
    for (const tally of report.tallies) merged.tallies.push(tally);
    for (const [key, counts] of Object.entries(report.tallyCounts)) merged.tallyCounts.set(key, counts);
    addCounts(merged.received, report.received);
    merged.bytesReceived += report.bytesReceived;
    addCounts(merged.order, report.order);
    addCounts(merged.checkers, report.checkers);
    merged.disconnects += report.disconnects;
    merged.connected += report.connected;
  }
  return merged;
}

/** Merges the reports of a `connect`. */
function mergeConnects(reports: ConnectReport[]): ConnectReport {
  const errors: Record<string, number> = {};
  const busy: Record<string, number> = {};
  for (const report of reports) {
    addCounts(errors, report.errors);
    addCounts(busy, report.busy);
  }
  return {
    type: "connected",
    busy,
    ok: reports.reduce((sum, report) => sum + report.ok, 0),
    failed: reports.reduce((sum, report) => sum + report.failed, 0),
    errors,
    latency: Histogram.mergeAll(reports.map((report) => report.latency)).toJSON(),
    snapshotBytes: reports.reduce((sum, report) => sum + report.snapshotBytes, 0),
  };
}

/** Merges the reports of a `join`. */
function mergeJoins(reports: JoinReport[]): JoinReport {
  const errors: Record<string, number> = {};
  const busy: Record<string, number> = {};
  for (const report of reports) {
    addCounts(errors, report.errors);
    addCounts(busy, report.busy);
  }
  const merge = (pick: (report: JoinReport) => JoinReport["total"]) =>
    Histogram.mergeAll(reports.map(pick)).toJSON();
  return {
    type: "joined",
    busy,
    ok: reports.reduce((sum, report) => sum + report.ok, 0),
    failed: reports.reduce((sum, report) => sum + report.failed, 0),
    errors,
    total: merge((report) => report.total),
    http: merge((report) => report.http),
    connect: merge((report) => report.connect),
    sync: merge((report) => report.sync),
    lag: merge((report) => report.lag),
    firstAt: Math.min(...reports.map((report) => report.firstAt)),
    lastDoneAt: Math.max(...reports.map((report) => report.lastDoneAt)),
    snapshotBytes: reports.reduce((sum, report) => sum + report.snapshotBytes, 0),
  };
}

function mergeRejoins(reports: RejoinReport[]): RejoinReport {
  const errors: Record<string, number> = {};
  const busy: Record<string, number> = {};
  const modes: Record<string, number> = {};
  for (const report of reports) {
    addCounts(errors, report.errors);
    addCounts(busy, report.busy);
    addCounts(modes, report.modes);
  }
  return {
    type: "rejoined",
    ok: reports.reduce((sum, report) => sum + report.ok, 0),
    failed: reports.reduce((sum, report) => sum + report.failed, 0),
    errors,
    busy,
    total: Histogram.mergeAll(reports.map((report) => report.total)).toJSON(),
    lag: Histogram.mergeAll(reports.map((report) => report.lag)).toJSON(),
    modes,
    events: reports.reduce((sum, report) => sum + report.events, 0),
    firstAt: Math.min(...reports.map((report) => report.firstAt)),
    lastDoneAt: Math.max(...reports.map((report) => report.lastDoneAt)),
    cpuMs: reports.reduce((sum, report) => sum + report.cpuMs, 0),
    wallMs: Math.max(...reports.map((report) => report.wallMs)),
  };
}

/** The generator's worker processes. */
export class WorkerPool {
  private constructor(private readonly workers: ChildProcess[]) {}

  /** Starts `count` workers on `cpus`, and waits until each is ready. */
  static async start(
    count: number,
    options: { cpus?: string; output: number | "inherit" },
  ): Promise<WorkerPool> {
    const workers = Array.from({ length: count }, () =>
      spawnNode("bench/worker.ts", [], { cpus: options.cpus, output: options.output }),
    );
    await Promise.all(
      workers.map((worker, index) =>
        nextMessage(
          worker,
          ofType<Extract<WorkerMessage, { type: "ready" }>>("ready"),
          60_000,
          `worker ${index}`,
        ),
      ),
    );
    return new WorkerPool(workers);
  }

  /** Moves every worker to `cpus` (a taskset list; undefined leaves them where they are). */
  pin(cpus: string | undefined): void {
    for (const pid of this.pids) pinProcess(pid, cpus);
  }

  /** The workers' pids. */
  get pids(): number[] {
    return this.workers.map((worker) => worker.pid!);
  }

  /** The worker that holds participant `idx`. */
  private indexOf(idx: number): number {
    return idx % this.workers.length;
  }

  private split<T extends { idx: number }>(items: T[]): T[][] {
    const parts: T[][] = this.workers.map(() => []);
    for (const item of items) parts[this.indexOf(item.idx)]!.push(item);
    return parts;
  }

  private ask<T extends WorkerMessage>(
    index: number,
    command: WorkerCommand,
    type: T["type"],
    timeoutMs: number,
  ): Promise<T> {
    const worker = this.workers[index]!;
    const answer = nextMessage(worker, ofType<T>(type), timeoutMs, `worker ${index} ${command.type}`);
    worker.send(command);
    return answer;
  }

  /** Connects participants that hold tokens, `ratePerSecond` in all, each with a snapshot. */
  async connect(urls: string[], clients: ClientSpec[], ratePerSecond: number): Promise<ConnectReport> {
    const parts = this.split(clients);
    const perWorker = ratePerSecond / this.workers.length;
    const timeout = 60_000 + (clients.length / ratePerSecond) * 1000;
    const reports = await Promise.all(
      parts.map((part, index) =>
        this.ask<ConnectReport>(
          index,
          { type: "connect", urls, clients: part, ratePerSecond: perWorker },
          "connected",
          timeout,
        ),
      ),
    );
    return mergeConnects(reports);
  }

  /** Runs the join storm. */
  async join(urls: string[], joins: JoinSpec[]): Promise<JoinReport> {
    const parts = this.split(joins);
    const reports = await Promise.all(
      parts.map((part, index) =>
        this.ask<JoinReport>(index, { type: "join", urls, joins: part }, "joined", 300_000),
      ),
    );
    return mergeJoins(reports.filter((report) => Number.isFinite(report.firstAt)));
  }

  /** Every connected participant but `keep` loses its connection at once; answers how many were dropped. */
  async drop(keep: number[]): Promise<number> {
    const answers = await Promise.all(
      this.workers.map((_, index) =>
        this.ask<Extract<WorkerMessage, { type: "dropped" }>>(
          index,
          { type: "drop", keep },
          "dropped",
          60_000,
        ),
      ),
    );
    return answers.reduce((sum, answer) => sum + answer.dropped, 0);
  }

  /** The reconnect storm of dropped participants (see the worker's rejoinAll). */
  async rejoin(urls: string[], rejoins: RejoinSpec[]): Promise<RejoinReport> {
    const parts = this.split(rejoins);
    const reports = await Promise.all(
      parts.map((part, index) =>
        this.ask<RejoinReport>(index, { type: "rejoin", urls, rejoins: part }, "rejoined", 300_000),
      ),
    );
    return mergeRejoins(reports.filter((report) => Number.isFinite(report.firstAt)));
  }

  /** Sends a plan and waits until every worker has every answer (or timeout). */
  async plan(actions: PlannedAction[], ackTimeoutMs: number): Promise<PlanReport[]> {
    const parts = this.split(actions);
    const last = Math.max(0, ...actions.map((action) => action.at));
    const timeout = Math.max(0, last - now()) + ackTimeoutMs + 120_000;
    return Promise.all(
      parts.map((part, index) =>
        this.ask<PlanReport>(index, { type: "plan", actions: part, ackTimeoutMs }, "planDone", timeout),
      ),
    );
  }

  /** Collects and merges what every worker observed since the last collect. */
  async collect(): Promise<MergedReport> {
    const reports = await Promise.all(
      this.workers.map((_, index) => this.ask<WorkerReport>(index, { type: "collect" }, "collected", 60_000)),
    );
    return mergeReports(reports);
  }

  /** Disconnects every participant. */
  async closeAll(): Promise<void> {
    await Promise.all(
      this.workers.map((_, index) =>
        this.ask<Extract<WorkerMessage, { type: "closed" }>>(index, { type: "closeAll" }, "closed", 60_000),
      ),
    );
  }

  /** Stops the workers. */
  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.exitCode !== null) return resolve();
            const timer = setTimeout(() => {
              worker.kill("SIGKILL");
              resolve();
            }, 5_000);
            worker.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            worker.send({ type: "exit" } satisfies WorkerCommand);
          }),
      ),
    );
  }
}
