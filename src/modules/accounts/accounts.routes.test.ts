import { describe, expect, it } from "vitest";
import { startTestServer } from "../../../tests/helpers/server.ts";
import { MAX_CONSECUTIVE_FAILURES, MAX_FAILURES_PER_ADDRESS } from "./login-throttle.ts";

const server = await startTestServer();

describe("accounts over HTTP", () => {
  it("registers, logs in and reads the account; the password is stored as an Argon2id hash", async () => {
    const registered = await server.http<{ token: string; account: { id: string; email: string } }>(
      "POST",
      "/api/auth/register",
      { email: " Ada@Example.TEST ", password: "correct horse battery staple", displayName: "Ada" },
    );
    expect(registered.status).toBe(201);
    if (!registered.body.ok) throw new Error("register failed");
    expect(registered.body.data.account.email).toBe("ada@example.test");

    const stored = await server.prisma.account.findUniqueOrThrow({ where: { email: "ada@example.test" } });
    expect(stored.passwordHash).toMatch(/^\$argon2id\$/);
    expect(stored.passwordHash).not.toContain("correct horse");

    const login = await server.http<{ token: string }>("POST", "/api/auth/login", {
      email: "ADA@example.test",
      password: "correct horse battery staple",
    });
    expect(login.status).toBe(200);
    if (!login.body.ok) throw new Error("login failed");
    const me = await server.http<{ email: string }>("GET", "/api/auth/me", undefined, login.body.data.token);
    expect(me.body).toMatchObject({ ok: true, data: { email: "ada@example.test" } });
  });

  it("answers the same generic error for an unknown e-mail and a wrong password", async () => {
    await server.http("POST", "/api/auth/register", {
      email: "grace@example.test",
      password: "correct horse battery staple",
      displayName: "Grace",
    });
    const wrong = await server.http("POST", "/api/auth/login", {
      email: "grace@example.test",
      password: "nope-nope-nope",
    });
    const unknown = await server.http("POST", "/api/auth/login", {
      email: "nobody@example.test",
      password: "nope-nope-nope",
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    // Each answer names its own request (error.requestId); everything else must be the same.
    const withoutRequestId = (body: unknown) => JSON.stringify(body).replace(/"requestId":"[^"]*"/, "");
    expect(withoutRequestId(wrong.body)).toBe(withoutRequestId(unknown.body));
    expect(wrong.body).toMatchObject({ ok: false, error: { code: "unauthenticated" } });
  });

  it("refuses a duplicate e-mail with conflict and stores nothing new", async () => {
    const body = { email: "dup@example.test", password: "correct horse battery staple", displayName: "Dup" };
    expect((await server.http("POST", "/api/auth/register", body)).status).toBe(201);
    const again = await server.http("POST", "/api/auth/register", { ...body, email: "DUP@example.test" });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ ok: false, error: { code: "conflict" } });
    expect(await server.prisma.account.count({ where: { email: "dup@example.test" } })).toBe(1);
  });

  it("validates bodies with typed errors: short password, bad e-mail, bidi characters in names, bad JSON", async () => {
    const before = await server.prisma.account.count();
    const short = await server.http("POST", "/api/auth/register", {
      email: "x@example.test",
      password: "short",
      displayName: "X",
    });
    expect(short.status).toBe(400);
    expect(short.body).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    const email = await server.http("POST", "/api/auth/register", {
      email: "not-an-email",
      password: "long enough pass",
      displayName: "X",
    });
    expect(email.body).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    const bidi = await server.http("POST", "/api/auth/register", {
      email: "bidi@example.test",
      password: "long enough pass",
      displayName: "evil\u202Egnp.exe",
    });
    expect(bidi.body).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    const json = await server.http("POST", "/api/auth/register", "{not json");
    expect(json.status).toBe(400);
    expect(json.body).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    expect(await server.prisma.account.count()).toBe(before);
  });

  it("limits consecutive failed logins per address and e-mail, and forgets them on success", async () => {
    const password = "correct horse battery staple";
    await server.http("POST", "/api/auth/register", {
      email: "target@example.test",
      password,
      displayName: "T",
    });
    const attempt = (pass: string) =>
      server.http("POST", "/api/auth/login", { email: "target@example.test", password: pass });
    // Nine failures, a success: the run of failures is over, so nine more are still answered 401.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < MAX_CONSECUTIVE_FAILURES - 1; i++)
        expect((await attempt("guess-guess-guess")).status).toBe(401);
      expect((await attempt(password)).status).toBe(200);
    }
    const statuses: number[] = [];
    for (let i = 0; i < MAX_CONSECUTIVE_FAILURES + 2; i++)
      statuses.push((await attempt("guess-guess-guess")).status);
    expect(statuses.slice(0, MAX_CONSECUTIVE_FAILURES).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(MAX_CONSECUTIVE_FAILURES)).toEqual([429, 429]);
    // Locked for this e-mail from this address, even with the right password, with a retry hint.
    const limited = await attempt(password);
    expect(limited.body).toMatchObject({
      ok: false,
      error: { code: "rate_limited", details: { retryAfterMs: expect.any(Number) } },
    });
  }, 60_000);

  it("counts only failures per address: a lecture hall's successful logins never lock anyone out", async () => {
    const password = "correct horse battery staple";
    await server.http("POST", "/api/auth/register", {
      email: "hall@example.test",
      password,
      displayName: "Hall",
    });
    const login = (email: string, pass: string) =>
      server.http("POST", "/api/auth/login", { email, password: pass });
    // More successful logins from one address than the per-address failure limit.
    const successes = await inBatches(MAX_FAILURES_PER_ADDRESS + 5, () =>
      login("hall@example.test", password),
    );
    expect(successes.filter((answer) => answer.status !== 200)).toEqual([]);
    // Failures for many e-mails (so no e-mail reaches its own limit) do reach the address limit;
    // earlier tests in this file failed from the same address, so it comes at or before the limit.
    const statuses: number[] = [];
    for (let i = 0; i <= MAX_FAILURES_PER_ADDRESS && !statuses.includes(429); i++) {
      statuses.push((await login(`guess-${i}@example.test`, "wrong-wrong")).status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
    const blocked = await login("hall@example.test", password);
    expect(blocked.body).toMatchObject({ ok: false, error: { code: "rate_limited" } });
  }, 120_000);

  it("refuses oversized bodies with payload_too_large", async () => {
    const huge = await server.http("POST", "/api/auth/login", {
      email: "a@b.test",
      password: "x".repeat(2 * 1024 * 1024),
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ ok: false, error: { code: "payload_too_large" } });
  });
});

/** Runs `count` calls, four at a time (Argon2 runs on the thread pool: this keeps the test short). */
async function inBatches<T>(count: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < count; i += 4) {
    const batch = Array.from({ length: Math.min(4, count - i) }, (_, j) => run(i + j));
    results.push(...(await Promise.all(batch)));
  }
  return results;
}
