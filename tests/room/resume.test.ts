/**
 * Guests who stay themselves: after their token expired a guest resumes with the secret the join
 * gave them and is the same member, with their annotations and ballot; secrets can be revoked;
 * resuming is rate-limited per address.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CloseReason } from "../../src/protocol/events.ts";
import type { RoomSnapshot } from "../../src/protocol/views.ts";
import { buildGuest, buildSeminar, expectOk, type GuestSession } from "../helpers/factories.ts";
import { eventually, RoomClient, startTestServer } from "../helpers/server.ts";

// Guest tokens live four seconds here, so that the test can wait for one to expire.
const server = await startTestServer({ GUEST_TOKEN_TTL: "4" });
// A second server whose resume limit is small enough to reach.
const limited = await startTestServer({ RESUMES_PER_MINUTE_PER_ADDRESS: "3" });

describe("resuming a guest's membership", () => {
  it("gives a guest whose token expired a fresh one as the same member, who still owns their annotation and ballot", async () => {
    const { seminar, moderator } = await buildSeminar(server, {
      prompts: [{ kind: "single_choice", question: "Agree?", options: ["Yes", "No"] }],
    });
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const prompt = host.stream.state!.prompts[0]!;
    expectOk(await host.send("prompt:open", { promptId: prompt.id }));
    const paragraph = host.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!;

    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    expect(ada.resumeSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Only a hash of the secret is stored.
    const row = await server.prisma.membership.findUniqueOrThrow({ where: { id: ada.member.id } });
    expect(row.resumeSecretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(ada.resumeSecret);

    const a = await RoomClient.join(server.url, { token: ada.token });
    const closed = new Promise<CloseReason>((resolve) =>
      a.socket.once("connection:closing", (info) => resolve(info.reason)),
    );
    const note = expectOk(await a.send("annotation:create", { paragraphId: paragraph.id, body: "mine" }));
    const ballot = expectOk(
      await a.send("prompt:vote", {
        promptId: prompt.id,
        optionIds: [prompt.options[0]!.id],
        clientBallotId: randomUUID(),
      }),
    );

    // The token runs out: the socket is told and closed, and the token opens nothing any more.
    expect(await closed).toBe("token_expired");
    await eventually(
      async () =>
        (await server.http("GET", `/api/seminars/${seminar.id}`, undefined, ada.token)).status === 401,
      10_000,
      "the token to expire",
    );

    const resumed = expectOk(
      await server.http<GuestSession>("POST", "/api/seminars/resume", {
        seminarId: seminar.id,
        secret: ada.resumeSecret,
      }),
    );
    expect(resumed.member).toMatchObject({ id: ada.member.id, displayName: "Ada" });
    expect(resumed).not.toHaveProperty("resumeSecret");
    const again = await RoomClient.join(server.url, { token: resumed.token });
    const state = again.stream.state!;
    expect(state.viewer.memberId).toBe(ada.member.id);
    expect(state.annotations.find((n) => n.id === note.id)?.authorId).toBe(ada.member.id);
    expect(state.myBallots).toEqual([ballot]);
    // Still theirs: they edit their annotation and change their ballot (the same row, revision 2).
    expectOk(await again.send("annotation:edit", { annotationId: note.id, body: "still mine" }));
    const changed = expectOk(
      await again.send("prompt:vote", {
        promptId: prompt.id,
        optionIds: [prompt.options[1]!.id],
        clientBallotId: randomUUID(),
      }),
    );
    expect(changed.revision).toBe(2);
    expect(await server.prisma.membership.count({ where: { seminarId: seminar.id } })).toBe(2);
    for (const client of [host, again]) client.close();
  });

  it("works from another device at the same time, and stops working once revoked", async () => {
    const { seminar } = await buildSeminar(server);
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const phone = expectOk(
      await server.http<GuestSession>("POST", "/api/seminars/resume", { secret: ada.resumeSecret }),
    );
    const laptop = await RoomClient.join(server.url, { token: ada.token });
    const other = await RoomClient.join(server.url, { token: phone.token });
    expect(other.stream.state!.viewer.memberId).toBe(laptop.stream.state!.viewer.memberId);

    expectOk(await server.http("POST", "/api/seminars/resume/revoke", { secret: ada.resumeSecret }));
    const refused = await server.http("POST", "/api/seminars/resume", { secret: ada.resumeSecret });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ ok: false, error: { code: "unauthenticated" } });
    const twice = await server.http("POST", "/api/seminars/resume/revoke", { secret: ada.resumeSecret });
    expect(twice.body).toMatchObject({ ok: false, error: { code: "unauthenticated" } });
    // The tokens already given stay valid until they expire.
    expectOk(await server.http<RoomSnapshot>("GET", `/api/seminars/${seminar.id}`, undefined, phone.token));
    // Joining by code with a revoked secret makes a new member.
    const anew = expectOk(
      await server.http<GuestSession>("POST", "/api/seminars/join", {
        code: seminar.joinCode,
        displayName: "Ada",
        resumeSecret: ada.resumeSecret,
      }),
    );
    expect(anew.member.id).not.toBe(ada.member.id);
    for (const client of [laptop, other]) client.close();
  });

  it("answers a malformed secret, another seminar and an unknown secret with typed errors", async () => {
    const { seminar } = await buildSeminar(server);
    const other = await buildSeminar(server);
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const cases: [unknown, string][] = [
      [{ secret: "short" }, "validation_failed"],
      [{ secret: ada.resumeSecret, seminarId: "nope" }, "validation_failed"],
      [{ secret: ada.resumeSecret, seminarId: other.seminar.id }, "not_found"],
      [{ secret: "A".repeat(43) }, "unauthenticated"],
    ];
    for (const [body, code] of cases) {
      expect((await server.http("POST", "/api/seminars/resume", body)).body).toMatchObject({
        ok: false,
        error: { code },
      });
    }
    // Another seminar's secret at join is no membership here: the guest joins as a new member.
    const elsewhere = expectOk(
      await server.http<GuestSession>("POST", "/api/seminars/join", {
        code: other.seminar.joinCode,
        displayName: "Ada",
        resumeSecret: ada.resumeSecret,
      }),
    );
    expect(elsewhere.member.id).not.toBe(ada.member.id);
    expect(elsewhere.seminar.id).toBe(other.seminar.id);
  });
});

describe("the resume rate limit", () => {
  it("answers rate_limited with retryAfterMs beyond RESUMES_PER_MINUTE_PER_ADDRESS", async () => {
    const { seminar } = await buildSeminar(limited);
    const ada = await buildGuest(limited, seminar.joinCode!, "Ada");
    for (let i = 0; i < 3; i++) {
      expectOk(await limited.http("POST", "/api/seminars/resume", { secret: ada.resumeSecret }));
    }
    const refused = await limited.http("POST", "/api/seminars/resume", { secret: ada.resumeSecret });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      ok: false,
      error: { code: "rate_limited", details: { retryAfterMs: expect.any(Number) } },
    });
  });
});
