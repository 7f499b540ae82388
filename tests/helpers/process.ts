import { type ChildProcess, spawn } from "node:child_process";
import { afterAll } from "vitest";
import type { Result } from "../../src/protocol/result.ts";
import { eventually } from "./server.ts";

// Real server processes for the tests that need a process boundary: signals, SIGKILL, several
// nodes. Every process started here is killed after the calling file's tests if still running.

const root = new URL("../..", import.meta.url).pathname;
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** How the process ended: the signal that killed it, or its exit code. */
export type Exit = NodeJS.Signals | number | null;

/** A server process listening on a port it picked (PORT=0), read from its "listening" log line. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Resolves once the process has exited. */
  exited: Promise<Exit>;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Calls the HTTP API; returns status and parsed body (what factories expect of a server). */
  http<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: Result<T> }>;
}

/**
 * Starts the server in a process of its own: `launcher: "node"` runs src/main.ts under tsx in one
 * node process (a signal reaches the server itself), `"npm"` runs `npm start` (the launcher, a build
 * when stale, the compiled server). `env` adds to a test environment on 127.0.0.1:0 with info logs.
 */
export async function spawnServer(options: {
  env: Record<string, string>;
  launcher?: "node" | "npm";
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const [command, args] =
    options.launcher === "npm" ? ["npm", ["start"]] : [process.execPath, ["--import", "tsx", "src/main.ts"]];
  const child = spawn(command, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<Exit>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve(signal ?? code);
    }),
  );
  let port = 0;
  await eventually(
    () => {
      if (child.exitCode !== null) throw new Error(`the server exited early:\n${output}`);
      const match = /"port":(\d+)[^\n]*"msg":"listening"/.exec(output);
      if (match) port = Number(match[1]);
      return match !== null;
    },
    options.timeoutMs ?? 120_000,
    "the server to listen",
  );
  const url = `http://127.0.0.1:${port}`;
  return {
    child,
    port,
    url,
    exited,
    output: () => output,
    async http(method, path, body, token) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    },
  };
}
