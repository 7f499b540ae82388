import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;
const tsx = join(root, "node_modules/.bin/tsx");

/** Starts `src/main.ts` with an environment and collects its output. */
function start(env: Record<string, string>) {
  const child = spawn(tsx, ["src/main.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function waitFor(check: () => boolean, ms: number, what: string) {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stop(child: ChildProcess, exited: Promise<number | null>) {
  child.kill("SIGTERM");
  return exited;
}

const dataDir = await mkdtemp(join(tmpdir(), "stepstone-start-"));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe("npm start on embedded defaults", () => {
  it("serves /healthz and the demo seminar, keeps data across restarts and seeds once", async () => {
    const env = { DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", PUBLIC_URL: "http://localhost:1" };
    const first = start(env);
    await waitFor(() => /join code ([A-Z0-9]{6})/.test(first.output()), 90_000, "the demo banner");
    const code = /join code ([A-Z0-9]{6})/.exec(first.output())![1];
    const password = / \/ (\S+)/.exec(first.output())![1];
    expect(await stop(first.child, first.exited)).toBe(0);

    // Second start on the same data, on a free port it reports in its banner (no PUBLIC_URL, so
    // the banner shows the port it listens on): same seminar, same credentials, and it answers.
    const { PUBLIC_URL: _unused, ...withoutPublicUrl } = env;
    const second = start(withoutPublicUrl);
    await waitFor(() => /join code/.test(second.output()), 90_000, "the second banner");
    expect(/join code ([A-Z0-9]{6})/.exec(second.output())![1]).toBe(code);
    const port = /running at http:\/\/localhost:(\d+)/.exec(second.output())?.[1];
    expect(Number(port)).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${port}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    await expect.poll(async () => (await fetch(`${base}/readyz`)).status).toBe(200);
    const login = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "demo@stepstone.local", password }),
    });
    const session = (await login.json()) as { ok: boolean; data: { token: string } };
    expect(session.ok).toBe(true);
    const list = await fetch(`${base}/api/seminars`, {
      headers: { authorization: `Bearer ${session.data.token}` },
    });
    const seminars = (await list.json()) as { data: { joinCode: string; title: string }[] };
    expect(seminars.data).toHaveLength(1);
    expect(seminars.data[0]!.joinCode).toBe(code);
    expect(await stop(second.child, second.exited)).toBe(0);
  }, 200_000);

  it("exits non-zero with one clear line in production without JWT_SECRET", async () => {
    const run = start({ NODE_ENV: "production", DATA_DIR: dataDir });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/invalid configuration: JWT_SECRET: must be set/);
  }, 60_000);
});
