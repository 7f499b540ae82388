import { request } from "node:http";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "./helpers/database.ts";
import { spawnServer } from "./helpers/process.ts";

// The real `npm start` (launcher, build when stale, compiled server) on PostgreSQL, signalled the
// way a process manager or container runtime does it: the signal goes to the npm process alone.

const database = await useTestDatabase();

/** `npm start` on PostgreSQL, on a port the server picks. */
function npmStart(env: Record<string, string> = {}) {
  return spawnServer({
    launcher: "npm",
    env: { DATABASE_URL: database.url, JWT_SECRET: "process-test-secret-process-test-secret-1", ...env },
  });
}

async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, ms: number, what: string) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** True when nothing accepts connections on the port any more. */
function isClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

async function status(port: number, path: string): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}${path}`)).status;
}

describe("npm start", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "stops the server when %s goes to the npm process alone",
    async (signal) => {
      const server = await npmStart({ SHUTDOWN_DRAIN_MS: "100" });
      // Ready once the database answers within /readyz's 2 s (not always the first ask under load).
      await expect.poll(() => status(server.port, "/readyz")).toBe(200);
      server.child.kill(signal);
      expect(await server.exited).toBe(0);
      // The server ran inside npm's child: had it been orphaned, the port would still answer.
      expect(await isClosed(server.port)).toBe(true);
      expect(server.output()).toContain('"msg":"stopped"');
    },
    180_000,
  );

  it("on SIGTERM answers /readyz 503 while it drains, finishes requests in flight, then exits 0", async () => {
    const server = await npmStart({ SHUTDOWN_DRAIN_MS: "2500" });
    // A request in flight: its headers and half its body are sent; the rest comes later.
    const body = JSON.stringify({ email: "nobody@example.test", password: "not the password at all" });
    let answer: { status: number; requestId: string | undefined; body: string } | undefined;
    const inFlight = request({
      host: "127.0.0.1",
      port: server.port,
      method: "POST",
      path: "/api/auth/login",
      headers: {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        "x-request-id": "drain-test-1",
      },
    });
    inFlight.on("response", (response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => {
        answer = {
          status: response.statusCode!,
          requestId: response.headers["x-request-id"] as string | undefined,
          body: text,
        };
      });
    });
    inFlight.write(body.slice(0, 10));

    const signalled = Date.now();
    server.child.kill("SIGTERM");
    // The signal goes through npm first, which can take a moment on a busy machine.
    const draining = await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${server.port}/readyz`);
        return response.status === 503 ? ((await response.json()) as { error: { code: string } }) : undefined;
      },
      2_000,
      "/readyz to answer 503",
    );
    expect(draining.error.code).toBe("unavailable");
    // Still serving during the drain window: only readiness changed.
    expect(await status(server.port, "/healthz")).toBe(200);

    // After the window the listener closes, with our request still waiting for its body.
    await eventually(
      async () => ((await isClosed(server.port)) ? true : undefined),
      5_000,
      "the listener to close",
    );
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(2_400);
    expect(answer).toBeUndefined();
    inFlight.end(body.slice(10));
    await eventually(() => answer, 5_000, "the in-flight request's answer");
    expect(answer!.status).toBe(401);
    expect(answer!.requestId).toBe("drain-test-1");
    expect(JSON.parse(answer!.body)).toMatchObject({
      ok: false,
      error: { code: "unauthenticated", requestId: "drain-test-1" },
    });

    expect(await server.exited).toBe(0);
    // The server's own bound is 8 s from the signal; allow 1 s for npm to pass the signal on.
    expect(Date.now() - signalled).toBeLessThan(9_000);
  }, 180_000);
});
