import { describe, expect, it } from "vitest";
import { buildGuest, buildSeminar } from "../../tests/helpers/factories.ts";
import { connect, send, startTestServer } from "../../tests/helpers/server.ts";

const server = await startTestServer({ METRICS_TOKEN: "metrics-token-0123456789" });

describe("health, readiness and metrics", () => {
  it("answers /healthz and /readyz with the envelope, and security headers", async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, data: { status: "alive" } });
    expect(health.headers.get("x-content-type-options")).toBe("nosniff");
    expect(health.headers.get("x-powered-by")).toBeNull();
    // Readiness waits at most 2 s for the database; on a saturated machine the first answer may be
    // 503, so ask until the database has answered in time.
    await expect
      .poll(async () => (await fetch(`${server.url}/readyz`)).json())
      .toMatchObject({ ok: true, data: { status: "ready" } });
  });

  it("answers unknown routes with the not_found envelope", async () => {
    // The web client's pages (/, /join/:code, /room/:id) are tested in tests/client/serving.test.ts.
    for (const path of ["/api/nothing-here", "/nothing-here", "/join/ABCDEF/extra"]) {
      const missing = await server.http("GET", path);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ ok: false, error: { code: "not_found" } });
    }
  });

  it("serves Prometheus metrics behind the metrics token, counting commands and room events", async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const { seminar } = await buildSeminar(server);
    const socket = await connect(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Counted")).token,
    });
    await send(socket, "presence:focus", { paragraphId: null });
    const metrics = await fetch(`${server.url}/metrics`, {
      headers: { authorization: "Bearer metrics-token-0123456789" },
    });
    const text = await metrics.text();
    expect(text).toMatch(/stepstone_room_events_total\{type="member:joined"\} [1-9]/);
    expect(text).toMatch(
      /stepstone_command_duration_seconds_count\{command="presence:focus",outcome="ok"\} 1/,
    );
    expect(text).toMatch(/stepstone_socket_connections [1-9]/);
    expect(text).toContain("stepstone_process_cpu_seconds_total");
    socket.close();
  });
});
