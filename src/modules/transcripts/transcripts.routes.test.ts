import { describe, expect, it, vi } from "vitest";
import { buildGuest, buildSeminar, expectOk } from "../../../tests/helpers/factories.ts";
import { startTestServer } from "../../../tests/helpers/server.ts";
import { download, errorOf } from "../../../tests/helpers/transcripts.ts";

const server = await startTestServer({ TRANSCRIPTS_PER_MINUTE: "3" });
// The first download starts the export thread (it loads the server's modules and opens its own
// connections: seconds from the TypeScript sources on a loaded machine).
vi.setConfig({ testTimeout: 90_000 });

describe("GET /api/seminars/:id/transcript", () => {
  it("limits downloads per member with a retryable rate_limited, each member on their own", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const other = await buildGuest(server, seminar.joinCode!, "Other");
    expectOk(
      await server.http(
        "PATCH",
        `/api/seminars/${seminar.id}/settings`,
        { transcriptAccess: true },
        moderator.token,
      ),
    );
    for (let i = 0; i < 3; i++) {
      expect((await download(server, seminar.id, moderator.token, "format=json")).status).toBe(200);
    }
    const refused = await download(server, seminar.id, moderator.token, "format=csv");
    expect(refused.status).toBe(429);
    expect(errorOf(refused)).toMatchObject({
      ok: false,
      error: { code: "rate_limited", details: { retryAfterMs: expect.any(Number) } },
    });
    expect((await download(server, seminar.id, other.token, "format=json")).status).toBe(200);
  });

  it("opens to participants during and after the session, never while it is a draft", async () => {
    const { seminar, moderator } = await buildSeminar(server, { start: false });
    const guest = await buildGuest(server, seminar.joinCode!, "Early");
    const settings = { transcriptAccess: true };
    expectOk(await server.http("PATCH", `/api/seminars/${seminar.id}/settings`, settings, moderator.token));
    const draft = await download(server, seminar.id, guest.token, "format=json");
    expect(errorOf(draft)).toMatchObject({ error: { code: "forbidden" } });
    expect((await download(server, seminar.id, moderator.token, "format=json")).status).toBe(200);
    expectOk(await server.http("POST", `/api/seminars/${seminar.id}/start`, {}, moderator.token));
    expect((await download(server, seminar.id, guest.token, "format=md")).status).toBe(200);
    expectOk(await server.http("POST", `/api/seminars/${seminar.id}/end`, {}, moderator.token));
    expect((await download(server, seminar.id, guest.token, "format=jsonld")).status).toBe(200);
    // Closing it again after the end is the host's call too.
    const closed = { transcriptAccess: false };
    expectOk(await server.http("PATCH", `/api/seminars/${seminar.id}/settings`, closed, moderator.token));
    expect(errorOf(await download(server, seminar.id, guest.token, "format=md"))).toMatchObject({
      error: { code: "forbidden" },
    });
  });

  it("changes nothing and appends nothing when a setting already has its value", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const before = await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } });
    const same = { transcriptAccess: false };
    expectOk(await server.http("PATCH", `/api/seminars/${seminar.id}/settings`, same, moderator.token));
    const after = await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } });
    expect(after.lastSeq).toBe(before.lastSeq);
    const empty = await server.http("PATCH", `/api/seminars/${seminar.id}/settings`, {}, moderator.token);
    expect(empty.body).toMatchObject({ ok: false, error: { code: "validation_failed" } });
  });
});
