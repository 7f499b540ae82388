import { request } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../tests/helpers/database.ts";
import { type Application, createApplication } from "../app.ts";
import { buildConfig } from "../config.ts";
import { createPrismaClient } from "../db/client.ts";
import { createMetricsServer, isMetricsPath } from "./metrics.ts";

/** A loopback port nothing listens on: one the system gave us, closed again. */
async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

// What an operator relies on: request ids end to end, readiness that names no internals, and
// metrics that no spelling of the path exposes without the token.

const database = await useTestDatabase();
const TOKEN = "operations-metrics-token-0123456789";

/** An application on the test database whose log lines are collected, listening on a free port. */
async function startApp(env: Record<string, string>, databaseUrl = database.url) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const prisma = createPrismaClient(databaseUrl, { maxConnections: 2 });
  const config = buildConfig({ JWT_SECRET: "operations-secret-operations-secret-12345", ...env });
  const app: Application = await createApplication({ config, prisma, logger });
  await new Promise<void>((resolve) => app.httpServer.listen(0, "127.0.0.1", resolve));
  afterAll(async () => {
    await app.close();
    await prisma.$disconnect();
  });
  return { app, lines, port: (app.httpServer.address() as AddressInfo).port };
}

/** A raw HTTP request: the path goes out exactly as written (fetch would normalise `/./` and `..`). */
function rawGet(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.once("error", reject);
      req.end();
    },
  );
}

const METRICS_SPELLINGS = [
  "/metrics",
  "/metrics/",
  "/METRICS",
  "/Metrics/",
  "/metrics?x=1",
  "/metrics/?x",
  "//metrics",
  "///metrics//",
  "/%6Detrics",
  "/%2Fmetrics",
  "/./metrics",
  "/api/../metrics",
];

describe("request ids", () => {
  const started = startApp({});

  it("generates one when the request has none, and echoes it in the header, the error and the log", async () => {
    const { port, lines } = await started;
    const first = await rawGet(port, "/api/nothing-here");
    const second = await rawGet(port, "/api/nothing-here");
    const id = first.headers["x-request-id"] as string;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second.headers["x-request-id"]).not.toBe(id);
    expect(JSON.parse(first.body)).toEqual({
      ok: false,
      error: { code: "not_found", message: "No such route.", requestId: id },
    });
    const logged = lines.filter((line) => line.requestId === id);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ msg: "request completed", res: { statusCode: 404 } });
  });

  it("logs a request by id, method, path and address, never its headers", async () => {
    const { port, lines } = await started;
    const secret = "eyJhbGciOiJIUzI1NiJ9.not-to-be-logged.signature";
    await rawGet(port, "/api/nothing-here?x=1", {
      "x-request-id": "log-shape-1",
      authorization: `Bearer ${secret}`,
      cookie: `session=${secret}`,
    });
    const logged = lines.filter((line) => line.requestId === "log-shape-1");
    expect(logged).toHaveLength(1);
    expect(logged[0]!.req).toEqual({
      id: "log-shape-1",
      method: "GET",
      url: "/api/nothing-here?x=1",
      remoteAddress: "127.0.0.1",
    });
    expect(logged[0]!.res).toEqual({ statusCode: 404 });
    expect(JSON.stringify(logged[0])).not.toContain("not-to-be-logged");
  });

  it("keeps an acceptable X-Request-Id and replaces one that is too long or has other characters", async () => {
    const { port } = await started;
    const kept = await rawGet(port, "/healthz", { "x-request-id": "lb-7f3a.9:zz_01" });
    expect(kept.headers["x-request-id"]).toBe("lb-7f3a.9:zz_01");
    for (const bad of ["x".repeat(129), "has space", 'quote"d', "semi;colon", "a/b", "{}"]) {
      const replaced = await rawGet(port, "/healthz", { "x-request-id": bad });
      expect(replaced.headers["x-request-id"]).not.toBe(bad);
      expect(replaced.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe("/readyz", () => {
  it("answers 503 with a generic reason when the database is unreachable, and logs the detail", async () => {
    // A port that was free a moment ago refuses connections: a database that is down.
    const { port, lines } = await startApp(
      {},
      `postgresql://postgres@127.0.0.1:${await closedPort()}/absent`,
    );
    const response = await rawGet(port, "/readyz", { "x-request-id": "ready-check-1" });
    expect(response.status).toBe(503);
    const body = JSON.parse(response.body) as { ok: boolean; error: { code: string; message: string } };
    expect(body).toEqual({
      ok: false,
      error: {
        code: "unavailable",
        message: "The database is not reachable.",
        details: { retryAfterMs: 1000 },
        requestId: "ready-check-1",
      },
    });
    expect(response.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Prisma|absent/);
    const logged = lines.find((line) => line.requestId === "ready-check-1" && line.level === 40);
    // The detail is in the logged error (the driver's words), not only in the answer's absence.
    expect(JSON.stringify(logged?.err)).toMatch(/ECONNREFUSED|DatabaseNotReachable|reach database server/);
  });

  it("answers 503 once the node begins to shut down, while it still serves everything else", async () => {
    const { app, port } = await startApp({});
    expect((await rawGet(port, "/readyz")).status).toBe(200);
    app.beginShutdown();
    const draining = await rawGet(port, "/readyz");
    expect(draining.status).toBe(503);
    expect(JSON.parse(draining.body).error).toMatchObject({ code: "unavailable", message: "Shutting down." });
    expect((await rawGet(port, "/healthz")).status).toBe(200);
  });
});

describe("metrics", () => {
  it("recognises every spelling of /metrics, and nothing else", () => {
    for (const path of METRICS_SPELLINGS) expect(isMetricsPath(path.split("?")[0]!), path).toBe(true);
    for (const path of ["/metricsx", "/metrics.json", "/api/metrics", "/", "/%E0%A4%A"]) {
      expect(isMetricsPath(path), path).toBe(false);
    }
  });

  it("with METRICS_TOKEN: every spelling without the token is refused, the token opens them", async () => {
    const { port } = await startApp({ METRICS_TOKEN: TOKEN });
    for (const path of METRICS_SPELLINGS) {
      const refused = await rawGet(port, path);
      expect([401, 404], path).toContain(refused.status);
      expect(refused.body, path).not.toContain("stepstone_");
      const wrong = await rawGet(port, path, { authorization: `Bearer ${TOKEN}x` });
      expect([401, 404], path).toContain(wrong.status);
    }
    const allowed = await rawGet(port, "/METRICS/", { authorization: `Bearer ${TOKEN}` });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain("stepstone_http_request_duration_seconds");
  });

  it("without METRICS_TOKEN or with METRICS_PORT: the main port has no metrics under any spelling", async () => {
    const environments: Record<string, string>[] = [{}, { METRICS_TOKEN: TOKEN, METRICS_PORT: "0" }];
    for (const env of environments) {
      const { port } = await startApp(env);
      for (const path of METRICS_SPELLINGS) {
        const response = await rawGet(port, path, { authorization: `Bearer ${TOKEN}` });
        expect(response.status, path).toBe(404);
        expect(response.body, path).not.toContain("stepstone_");
      }
    }
  });

  it("the metrics port serves them (behind the token when set) and nothing else", async () => {
    const { app } = await startApp({ METRICS_TOKEN: TOKEN, METRICS_PORT: "0" });
    const server = createMetricsServer(app.context);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      expect((await rawGet(port, "/metrics")).status).toBe(401);
      const scraped = await rawGet(port, "/metrics", { authorization: `Bearer ${TOKEN}` });
      expect(scraped.status).toBe(200);
      expect(scraped.body).toContain("stepstone_process_cpu_seconds_total");
      expect((await rawGet(port, "/api/seminars", { authorization: `Bearer ${TOKEN}` })).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
