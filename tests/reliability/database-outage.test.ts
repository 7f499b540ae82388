import { afterAll, describe, expect, it } from "vitest";
import type { Result } from "../../src/protocol/result.ts";
import { useTestDatabase } from "../helpers/database.ts";
import { buildGuest, buildModerator, buildSeminar, expectOk, TEST_ESSAY } from "../helpers/factories.ts";
import { connect, eventually, RoomClient, send, startTestServer } from "../helpers/server.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";

// The application reaches its database only through a TCP proxy this file controls; the checks of
// what was stored go straight to PostgreSQL (db.prisma), past the proxy.
const db = await useTestDatabase();
const target = new URL(db.url);
const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
afterAll(() => proxy.close());
const server = await startTestServer({}, { database: { ...db, url: proxy.urlFor(db.url) } });

/** An answer is the documented outage answer: 503 (over HTTP) `unavailable` with a retry hint. */
function expectUnavailable(result: Result<unknown>, what: string) {
  expect(result.ok, `${what} must not be acknowledged during the outage`).toBe(false);
  if (result.ok) return;
  expect(result.error.code, what).toBe("unavailable");
  expect(result.error.details, what).toEqual({ retryAfterMs: expect.any(Number) });
  expect((result.error.details as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
}

/** Text of the driver's own errors that must never reach a client. */
const LEAKS = /prisma|127\.0\.0\.1|5432|terminated|ECONN|driver|stack|\bat \w/i;

/**
 * What an answer tells its reader, without the request id: that is a random UUID, which can
 * contain "5432" by chance (it did, in a CI run).
 */
function answerText(result: Result<unknown>): string {
  if (result.ok) return JSON.stringify(result);
  const { requestId: _requestId, ...error } = result.error;
  return JSON.stringify(error);
}

describe("database outage through a TCP proxy", () => {
  it("refuses every write with unavailable while the database is gone and recovers without a restart", async () => {
    const moderator = await buildModerator(server);
    const { seminar } = await buildSeminar(server, { moderator, prompts: [] });
    const guest = await buildGuest(server, seminar.joinCode!, "Before");
    const member = await RoomClient.join(server.url, { token: guest.token });
    const host = await connect(server.url, { token: moderator.token, seminarId: seminar.id });
    const paragraphId = member.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;
    expectOk(
      await member.send("annotation:create", { paragraphId, body: "before the outage", clientId: "pre" }),
    );
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    proxy.cut("refuse");

    // Readiness: 503 in the envelope, and nothing of the driver's message.
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    const readyBody = (await ready.json()) as Result<unknown>;
    expectUnavailable(readyBody, "/readyz");
    expect(answerText(readyBody)).not.toMatch(LEAKS);

    // REST writes and reads that need the database.
    const rest: [string, string, unknown, string | undefined][] = [
      ["POST", "/api/seminars/join", { code: seminar.joinCode, displayName: "During" }, undefined],
      [
        "POST",
        "/api/auth/login",
        { email: moderator.email, password: "correct horse battery staple" },
        undefined,
      ],
      [
        "POST",
        "/api/auth/register",
        { email: "new@example.test", password: "correct horse battery staple", displayName: "New" },
        undefined,
      ],
      ["POST", "/api/seminars", { title: "During", essay: { text: TEST_ESSAY } }, moderator.token],
      ["POST", `/api/seminars/${seminar.id}/end`, {}, moderator.token],
      ["GET", `/api/seminars/${seminar.id}`, undefined, guest.token],
      ["GET", `/api/seminars/${seminar.id}/prompts`, undefined, guest.token],
    ];
    for (const [method, path, body, token] of rest) {
      const answer = await server.http(method, path, body, token);
      expect(answer.status, `${method} ${path}`).toBe(503);
      expectUnavailable(answer.body, `${method} ${path}`);
      expect(answerText(answer.body)).not.toMatch(LEAKS);
    }

    // Socket commands on connections opened before the outage: refused, never acknowledged.
    const attempts = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) =>
        member.send("annotation:create", { paragraphId, body: `during ${i}`, clientId: `during-${i}` }),
      ),
      send(host, "prompt:create", { kind: "single_choice", question: "During?", options: ["Yes", "No"] }),
    ]);
    for (const [i, answer] of attempts.entries()) expectUnavailable(answer, `command ${i}`);

    // A new connection cannot be authenticated: connect_error carries the same body.
    const refused = await connect(server.url, { token: guest.token }).then(
      () => undefined,
      (error: Error & { data?: unknown }) => error.data,
    );
    expect(refused).toMatchObject({ code: "unavailable", details: { retryAfterMs: expect.any(Number) } });

    // Nothing of it was stored.
    const stored = await db.prisma.annotation.findMany({
      where: { seminarId: seminar.id },
      select: { clientId: true },
    });
    expect(stored.map((row) => row.clientId)).toEqual(["pre"]);
    expect(
      await db.prisma.membership.count({ where: { seminarId: seminar.id, displayName: "During" } }),
    ).toBe(0);
    expect(await db.prisma.prompt.count({ where: { seminarId: seminar.id } })).toBe(0);
    expect(await db.prisma.account.count({ where: { email: "new@example.test" } })).toBe(0);

    proxy.restore();

    // The same process and the same sockets work again, once the pool has reconnected.
    await eventually(async () => (await fetch(`${server.url}/readyz`)).status === 200, 15_000, "readyz 200");
    const created = expectOk(
      await member.send("annotation:create", {
        paragraphId,
        body: "after",
        clientId: "post",
      }),
    );
    expectOk(
      await send(host, "prompt:create", {
        kind: "single_choice",
        question: "After?",
        options: ["Yes", "No"],
      }),
    );
    expectOk(
      await server.http("POST", "/api/seminars/join", { code: seminar.joinCode, displayName: "After" }),
    );
    expectOk(
      await server.http("POST", "/api/auth/login", {
        email: moderator.email,
        password: "correct horse battery staple",
      }),
    );
    await eventually(
      () => member.stream.state!.annotations.some((annotation) => annotation.id === created.id),
      10_000,
      "the member to see the new annotation",
    );
    const after = await db.prisma.annotation.findMany({
      where: { seminarId: seminar.id },
      select: { clientId: true },
      orderBy: { createdAt: "asc" },
    });
    expect(after.map((row) => row.clientId)).toEqual(["pre", "post"]);
    member.close();
    host.close();
  }, 60_000);

  it("answers unavailable when the database hangs (pool timeout) instead of waiting forever", async () => {
    // Start from an empty pool so every query needs a new connection, which the hang never answers.
    proxy.cut("refuse");
    await eventually(async () => (await fetch(`${server.url}/readyz`)).status === 503, 10_000, "readyz 503");
    proxy.cut("hang");
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expectUnavailable((await ready.json()) as Result<unknown>, "/readyz while hanging");
    const join = await server.http("POST", "/api/auth/login", {
      email: "x@example.test",
      password: "whatever-long",
    });
    expect(join.status).toBe(503);
    expectUnavailable(join.body, "login while hanging");
    proxy.restore();
    await eventually(async () => (await fetch(`${server.url}/readyz`)).status === 200, 15_000, "readyz 200");
  }, 60_000);
});
