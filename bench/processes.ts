/**
 * The bench's child processes and what they cost: spawning the server and the generator workers
 * (through `sh` to raise the open-file limit to the hard limit, and `taskset` to pin them to
 * their cores), talking to them over IPC, and reading their CPU time and memory from /proc.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { now, sleep } from "./clock.ts";
import type { ServerCommand, ServerMessage, ServerStats } from "./messages.ts";

/** Which cores the server nodes and the generator run on. */
export interface Pinning {
  /** A taskset CPU list per server node, or undefined when not pinned. */
  servers: (string | undefined)[];
  generator: string | undefined;
  note: string;
}

/**
 * One node: the server on CPU 0, the generator (workers and orchestrator) on the others, when
 * `taskset` exists and the machine has two cores or more. Several nodes: node k on CPU k, the
 * generator on the cores left over; when none is left (two nodes on two cores) the generator
 * shares every core with the nodes. PostgreSQL (and Redis) are not ours to pin: they run wherever
 * the kernel puts them, which on two cores means beside both sides.
 */
export function choosePinning(enabled: boolean, nodes = 1): Pinning {
  const cores = availableParallelism();
  const taskset = existsSync("/usr/bin/taskset") || existsSync("/bin/taskset");
  const unpinned = (note: string): Pinning => ({
    servers: Array.from({ length: nodes }, () => undefined),
    generator: undefined,
    note,
  });
  if (!enabled) return unpinned("pinning disabled (--no-pin)");
  if (!taskset) return unpinned("taskset not found: not pinned");
  if (cores < 2) return unpinned("one core: not pinned");
  const range = (from: number, to: number) => (from === to ? String(from) : `${from}-${to}`);
  if (nodes === 1) {
    const generator = range(1, cores - 1);
    return { servers: ["0"], generator, note: `server on CPU 0, generator on CPU ${generator} (taskset)` };
  }
  const servers = Array.from({ length: nodes }, (_, node) => String(node % cores));
  const placed = servers.map((cpu, node) => `node ${nodeName(node)} on CPU ${cpu}`).join(", ");
  if (nodes < cores) {
    const generator = range(nodes, cores - 1);
    return { servers, generator, note: `${placed}, generator on CPU ${generator} (taskset)` };
  }
  return {
    servers,
    generator: range(0, cores - 1),
    note:
      `${placed}; the generator (workers and orchestrator), PostgreSQL and Redis share the ${cores} cores ` +
      `with them (taskset). ${nodes} nodes on ${cores} cores: the figures show what crossing nodes costs ` +
      "(Redis pub/sub, shared presence and rate limits), not more capacity",
  };
}

/** A node's name in reports: A, B, C… */
export function nodeName(node: number): string {
  return String.fromCharCode(65 + node);
}

/** Pins this process (all its threads) to `cpus`. */
export function pinSelf(cpus: string | undefined): void {
  pinProcess(process.pid, cpus);
}

/** Pins a running process (all its threads) to `cpus`; silently does nothing where not allowed. */
export function pinProcess(pid: number, cpus: string | undefined): void {
  if (!cpus) return;
  try {
    execFileSync("taskset", ["-a", "-cp", cpus, String(pid)], { stdio: "ignore" });
  } catch {
    // Not allowed here (a container without CAP_SYS_NICE): run unpinned.
  }
}

/** The soft open-file limit of this process (what children start from before raising it). */
export function openFileLimit(): { soft: string; hard: string } {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((row) => row.startsWith("Max open files"));
  const parts = line?.split(/\s{2,}/) ?? [];
  return { soft: parts[1] ?? "?", hard: parts[2] ?? "?" };
}

const TSX_LOADER = import.meta.resolve("tsx");

/**
 * Starts `script` (a TypeScript file) in a Node child with an IPC channel, through
 * `sh -c 'ulimit -n <hard>; exec taskset -c <cpus> node …'` so it runs with the highest open-file
 * limit allowed and on its cores from its first instruction. The pid is the node process's.
 */
export function spawnNode(
  script: string,
  args: string[],
  options: { cpus?: string; env?: NodeJS.ProcessEnv; nodeOptions?: string[]; output: number | "inherit" },
): ChildProcess {
  const node = [process.execPath, ...(options.nodeOptions ?? []), "--import", TSX_LOADER, script, ...args];
  const command = options.cpus ? ["taskset", "-c", options.cpus, ...node] : node;
  return spawn("/bin/sh", ["-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', "bench", ...command], {
    stdio: ["ignore", options.output, options.output, "ipc"],
    env: options.env ?? process.env,
  });
}

/** Waits for the first IPC message of `child` that `match` accepts. */
export function nextMessage<T>(
  child: ChildProcess,
  match: (message: unknown) => message is T,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (message: unknown) => {
      const error = (message as { type?: string; message?: string }).type === "error";
      if (error) {
        cleanup();
        reject(new Error(`${what}: ${(message as { message?: string }).message}`));
      } else if (match(message)) {
        cleanup();
        resolve(message);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${what}: the process exited (${code})`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}

/** A type guard for IPC messages of one `type`. */
export function ofType<T extends { type: string }>(type: T["type"]): (message: unknown) => message is T {
  return (message: unknown): message is T => (message as { type?: string }).type === type;
}

/** A running server child. */
export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  /** The server's pid. */
  get pid(): number {
    return this.child.pid!;
  }

  /** Starts bench/server.ts in `mode` and waits until it listens. */
  static async start(
    mode: "app" | "relay",
    options: { cpus?: string; env: NodeJS.ProcessEnv; output: number | "inherit" },
  ): Promise<ServerProcess> {
    const nodeOptions = ["--expose-gc"];
    const child = spawnNode("bench/server.ts", [mode], {
      cpus: options.cpus,
      env: options.env,
      nodeOptions,
      output: options.output,
    });
    const ready = await nextMessage(
      child,
      ofType<Extract<ServerMessage, { type: "ready" }>>("ready"),
      60_000,
      `${mode} server`,
    );
    return new ServerProcess(child, `http://127.0.0.1:${ready.port}`);
  }

  /** Memory and event-loop delay of the server (the delay window restarts when `reset`). */
  async stats(reset: boolean): Promise<ServerStats> {
    this.send({ type: "stats", reset });
    return await nextMessage(this.child, ofType<ServerStats>("stats"), 10_000, "server stats");
  }

  /** Runs a full garbage collection in the server (for memory figures). */
  async gc(): Promise<void> {
    this.send({ type: "gc" });
    await nextMessage(this.child, ofType<Extract<ServerMessage, { type: "gcDone" }>>("gcDone"), 10_000, "gc");
  }

  /** Starts sampling the server's CPU (V8 profiler through the inspector). */
  async startProfile(): Promise<void> {
    this.send({ type: "profileStart" });
    await nextMessage(
      this.child,
      ofType<Extract<ServerMessage, { type: "profileStarted" }>>("profileStarted"),
      10_000,
      "profile start",
    );
  }

  /** Stops sampling and writes the profile (.cpuprofile) to `path`. */
  async stopProfile(path: string): Promise<void> {
    this.send({ type: "profileStop", path });
    await nextMessage(
      this.child,
      ofType<Extract<ServerMessage, { type: "profileWritten" }>>("profileWritten"),
      60_000,
      "profile stop",
    );
  }

  /** Stops the server and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.send({ type: "stop" });
    await Promise.race([exited, sleep(15_000)]);
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }

  /**
   * Sends a command over IPC. A server that has exited (a scenario failed and stopped it while a
   * meter still polls) is an error of the caller's promise, not an unhandled 'error' event.
   */
  private send(command: ServerCommand): void {
    if (!this.child.connected) throw new Error("the server process has exited");
    // With a callback a failed send is not an 'error' event; the caller's wait for the reply
    // then fails with its timeout, naming what it waited for.
    this.child.send(command, () => {});
  }
}

/**
 * The nodes a scenario runs against: one server process, or several sharing a database and a
 * Redis. Memory figures are the nodes' sums (so "per client" means per client of the deployment),
 * the event-loop delay the worst node's.
 */
export class ServerGroup {
  private constructor(readonly nodes: ServerProcess[]) {}

  /** Starts `cpus.length` nodes of `mode`, node k on `cpus[k]`, and waits until all listen. */
  static async start(
    mode: "app" | "relay",
    options: { cpus: (string | undefined)[]; env: NodeJS.ProcessEnv; output: number | "inherit" },
  ): Promise<ServerGroup> {
    const started = await Promise.allSettled(
      options.cpus.map((cpus) =>
        ServerProcess.start(mode, { cpus, env: options.env, output: options.output }),
      ),
    );
    const nodes = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const failed = started.find((result) => result.status === "rejected");
    if (failed) {
      await Promise.all(nodes.map((node) => node.stop()));
      throw failed.reason;
    }
    return new ServerGroup(nodes);
  }

  /** Node A: where rooms are created and prompts opened. */
  get first(): ServerProcess {
    return this.nodes[0]!;
  }

  /** Every node's URL, by node index. */
  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  get pids(): number[] {
    return this.nodes.map((node) => node.pid);
  }

  /** Memory summed over the nodes; event-loop delay of the worst node; sockets summed. */
  async stats(reset: boolean): Promise<ServerStats> {
    const all = await Promise.all(this.nodes.map((node) => node.stats(reset)));
    const worst = (pick: (stats: ServerStats) => number) => Math.max(...all.map(pick));
    const sum = (pick: (stats: ServerStats) => number) =>
      all.reduce((total, stats) => total + pick(stats), 0);
    return {
      type: "stats",
      rssBytes: sum((stats) => stats.rssBytes),
      heapUsedBytes: sum((stats) => stats.heapUsedBytes),
      loopDelay: {
        p50: worst((stats) => stats.loopDelay.p50),
        p99: worst((stats) => stats.loopDelay.p99),
        max: worst((stats) => stats.loopDelay.max),
      },
      sockets: sum((stats) => stats.sockets),
    };
  }

  /** A full garbage collection on every node. */
  async gc(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.gc()));
  }

  async startProfile(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.startProfile()));
  }

  /** Writes each node's profile: `path` for one node, `<path without .cpuprofile>-<A|B…>.cpuprofile` for several. */
  async stopProfile(path: string): Promise<void> {
    await Promise.all(
      this.nodes.map((node, index) =>
        node.stopProfile(
          this.nodes.length === 1 ? path : path.replace(/\.cpuprofile$/, `-${nodeName(index)}.cpuprofile`),
        ),
      ),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (ms) a process has used so far, from /proc/<pid>/stat; undefined when it is gone. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in bytes, from /proc/<pid>/status. */
export function processRssBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of each core, from /proc/stat. */
export function coreTimes(): { busy: number; total: number }[] {
  const cores: { busy: number; total: number }[] = [];
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    if (!/^cpu\d+ /.test(line)) continue;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
    cores.push({ busy: total - idle, total });
  }
  return cores;
}

/** What a scenario cost, per side, over its measured window. */
export interface ResourceUsage {
  wallMs: number;
  /** CPU in percent of one core (100 = one core fully busy), every node together. */
  serverCpuPct: number;
  /** Each node's share of it. */
  nodeCpuPct: number[];
  serverRssPeakMb: number;
  serverHeapPeakMb: number;
  /** The server's event-loop delay over the window: how long work waited for the CPU. */
  serverLoopDelayP99Ms: number;
  serverLoopDelayMaxMs: number;
  /** Workers and orchestrator together. */
  generatorCpuPct: number;
  workerCpuPct: number[];
  /** PostgreSQL backends serving the bench database (app only). */
  dbCpuPct: number | undefined;
  /** Each core's busy share of the window, whoever used it (other work on the machine included). */
  coreBusyPct: number[];
  /**
   * CPU used by everything else on the machine (other PostgreSQL sessions, other programs), in
   * percent of one core: the cores' busy time less the server, generator and bench backends.
   */
  otherCpuPct: number;
}

/** Measures CPU and memory of every side over a window. */
export class UsageMeter {
  private startedAt = 0;
  private cpuStart = new Map<number, number>();
  private coresStart: { busy: number; total: number }[] = [];
  private dbStart = new Map<number, number>();
  private poll: NodeJS.Timeout | undefined;
  private rssPeak = 0;
  private heapPeak = 0;

  /**
   * `profilePath`: also write a CPU profile of the server over the window there (.cpuprofile).
   */
  constructor(
    private readonly server: ServerGroup,
    private readonly workerPids: number[],
    private readonly dbPids: () => Promise<number[]>,
    private readonly profilePath?: string,
  ) {}

  /** Starts the window. */
  async start(): Promise<void> {
    if (this.profilePath) await this.server.startProfile();
    await this.server.stats(true);
    this.startedAt = now();
    this.cpuStart = new Map(
      [...this.server.pids, process.pid, ...this.workerPids].map((pid) => [pid, processCpuMs(pid) ?? 0]),
    );
    this.dbStart = new Map();
    for (const pid of await this.dbPids()) this.dbStart.set(pid, processCpuMs(pid) ?? 0);
    this.coresStart = coreTimes();
    this.rssPeak = 0;
    this.heapPeak = 0;
    this.poll = setInterval(() => {
      this.server
        .stats(false)
        .then((stats) => {
          this.rssPeak = Math.max(this.rssPeak, stats.rssBytes);
          this.heapPeak = Math.max(this.heapPeak, stats.heapUsedBytes);
        })
        .catch(() => {});
    }, 500);
  }

  /** Ends the window and reports it. */
  async stop(): Promise<ResourceUsage> {
    clearInterval(this.poll);
    const wallMs = now() - this.startedAt;
    const stats = await this.server.stats(true);
    if (this.profilePath) await this.server.stopProfile(this.profilePath);
    const pct = (pid: number, start: Map<number, number>) => {
      const end = processCpuMs(pid);
      const begin = start.get(pid);
      return end === undefined || begin === undefined ? 0 : ((end - begin) / wallMs) * 100;
    };
    const workerCpuPct = this.workerPids.map((pid) => pct(pid, this.cpuStart));
    let dbCpuPct: number | undefined;
    const dbPids = await this.dbPids();
    if (dbPids.length > 0 || this.dbStart.size > 0) {
      dbCpuPct = 0;
      for (const pid of new Set([...dbPids, ...this.dbStart.keys()])) {
        const end = processCpuMs(pid);
        if (end !== undefined) dbCpuPct += ((end - (this.dbStart.get(pid) ?? 0)) / wallMs) * 100;
      }
    }
    const cores = coreTimes();
    const coreBusyPct = cores.map((core, index) => {
      const start = this.coresStart[index] ?? { busy: 0, total: 0 };
      const total = core.total - start.total;
      return total > 0 ? ((core.busy - start.busy) / total) * 100 : 0;
    });
    const nodeCpuPct = this.server.pids.map((pid) => pct(pid, this.cpuStart));
    const serverCpuPct = nodeCpuPct.reduce((sum, value) => sum + value, 0);
    const generatorCpuPct =
      workerCpuPct.reduce((sum, value) => sum + value, 0) + pct(process.pid, this.cpuStart);
    const busy = coreBusyPct.reduce((sum, value) => sum + value, 0);
    return {
      wallMs,
      serverCpuPct,
      nodeCpuPct,
      serverRssPeakMb: Math.max(this.rssPeak, stats.rssBytes) / 2 ** 20,
      serverHeapPeakMb: Math.max(this.heapPeak, stats.heapUsedBytes) / 2 ** 20,
      serverLoopDelayP99Ms: stats.loopDelay.p99,
      serverLoopDelayMaxMs: stats.loopDelay.max,
      generatorCpuPct,
      workerCpuPct,
      dbCpuPct,
      coreBusyPct,
      otherCpuPct: Math.max(0, busy - serverCpuPct - generatorCpuPct - (dbCpuPct ?? 0)),
    };
  }
}

/** The server's environment: its own database, quiet logs, long tokens, no join limit in practice. */
export function serverEnvironment(databaseUrl: string, jwtSecret: string): NodeJS.ProcessEnv {
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
  delete env.REDIS_PREFIX;
  delete env.PUBLIC_URL;
  return env;
}
