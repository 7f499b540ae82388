import pg from "pg";
import { describe, expect, it } from "vitest";
import { toErrorBody } from "../../src/errors.ts";
import type { Result } from "../../src/protocol/result.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { eventually, RoomClient, startTestServer } from "../helpers/server.ts";

// Short timeouts so that the test waits half a second, not the default 15.
const server = await startTestServer({
  DATABASE_STATEMENT_TIMEOUT_MS: "500",
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: "1000",
});

/** A second PostgreSQL session of the test's own, to hold locks the application must wait for. */
async function lockHolder() {
  const client = new pg.Client({ connectionString: server.db.url });
  await client.connect();
  return client;
}

function expectUnavailable(result: Result<unknown>, what: string) {
  expect(result.ok, what).toBe(false);
  if (result.ok) return;
  expect(result.error.code, what).toBe("unavailable");
  expect(result.error.details, what).toEqual({ retryAfterMs: expect.any(Number) });
}

describe("database timeouts", () => {
  it("sets statement_timeout and idle_in_transaction_session_timeout on the application's connections", async () => {
    const [settings] = await server.prisma.$queryRaw<{ statement: string; idle: string }[]>`
      SELECT current_setting('statement_timeout') AS statement,
             current_setting('idle_in_transaction_session_timeout') AS idle`;
    expect(settings).toEqual({ statement: "500ms", idle: "1s" });
  });

  it("answers unavailable when a write waits for a lock past the statement timeout, then serves again", async () => {
    const { seminar } = await buildSeminar(server);
    const guest = await buildGuest(server, seminar.joinCode!, "Waiting");
    const member = await RoomClient.join(server.url, { token: guest.token });
    const paragraphId = member.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;

    // Every room write locks the seminar's row first; hold that lock in another session.
    const holder = await lockHolder();
    await holder.query("BEGIN");
    await holder.query("SELECT id FROM seminars WHERE id = $1 FOR UPDATE", [seminar.id]);

    const started = performance.now();
    const ack = await member.send("annotation:create", { paragraphId, body: "stuck", clientId: "stuck" });
    expectUnavailable(ack, "annotation:create behind a held lock");
    const joined = await server.http("POST", "/api/seminars/join", {
      code: seminar.joinCode,
      displayName: "Late",
    });
    expect(joined.status).toBe(503);
    expectUnavailable(joined.body, "join behind a held lock");
    // Cancelled by the database, not by the client giving up (sendRaw waits 10 s).
    expect(performance.now() - started).toBeLessThan(8_000);

    await holder.query("COMMIT");
    await holder.end();
    const after = await server.db.prisma.annotation.count({ where: { seminarId: seminar.id } });
    expect(after).toBe(0);
    expect(
      await server.db.prisma.membership.count({ where: { seminarId: seminar.id, displayName: "Late" } }),
    ).toBe(0);

    // The same sockets and pool serve again once the lock is released.
    expectOk(await member.send("annotation:create", { paragraphId, body: "later", clientId: "later" }));
    expect(
      (await server.http("POST", "/api/seminars/join", { code: seminar.joinCode, displayName: "Late" }))
        .status,
    ).toBe(201);
    member.close();
  });

  it("lets PostgreSQL end a transaction left idle, and that failure is unavailable", async () => {
    let backend = 0;
    const failure = await server.prisma
      .$transaction(
        async (tx) => {
          const [row] = await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
          backend = row!.pid;
          // Idle inside the transaction until PostgreSQL has ended this session.
          await eventually(
            async () => {
              const [gone] = await server.db.prisma.$queryRaw<{ n: number }[]>`
                SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${backend}`;
              return gone!.n === 0;
            },
            10_000,
            "the idle transaction's session to end",
          );
          await tx.$queryRaw`SELECT 1`;
        },
        { timeout: 20_000, maxWait: 5_000 },
      )
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(backend).toBeGreaterThan(0);
    expect(failure).toBeDefined();
    expect(toErrorBody(failure).body.code).toBe("unavailable");
    // The pool replaces the ended connection.
    expect(await server.prisma.$queryRaw<{ one: number }[]>`SELECT 1 AS one`).toEqual([{ one: 1 }]);
  });
});
