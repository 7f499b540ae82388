/**
 * Rights are decided when each command runs, not only at connect: a member whose status or role
 * changes is refused at their next command, on whichever node their socket lives, even before
 * (or without) any notification reaching that node; and the server says why before it closes.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ClosingView } from "../../src/protocol/events.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { redisEnv } from "../helpers/redis.ts";
import { RoomClient, startTestServer } from "../helpers/server.ts";

const env = { JWT_SECRET: "rights-secret-rights-secret-rights-1234", ...redisEnv() };
const nodeA = await startTestServer(env);
const nodeB = await startTestServer(env, { database: nodeA.db });

async function room() {
  const { seminar, moderator } = await buildSeminar(nodeA, {
    prompts: [
      { kind: "single_choice", question: "Should DeepSeek be a national team?", options: ["Yes", "No"] },
    ],
  });
  const host = await RoomClient.join(nodeA.url, { token: moderator.token, seminarId: seminar.id });
  const promptId = host.stream.state!.prompts[0]!.id;
  expectOk(await host.send("prompt:open", { promptId }));
  const guest = await buildGuest(nodeB, seminar.joinCode!, "Changing");
  const client = await RoomClient.join(nodeB.url, { token: guest.token });
  const paragraphId = client.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;
  const optionId = client.stream.state!.prompts[0]!.options[0]!.id;
  return { seminar, host, guest, client, paragraphId, promptId, optionId };
}

/** What a member may try: a write, a ballot, a catch-up. */
async function attempts(r: Awaited<ReturnType<typeof room>>) {
  return {
    annotate: await r.client.send("annotation:create", { paragraphId: r.paragraphId, body: "still here?" }),
    vote: await r.client.send("prompt:vote", {
      promptId: r.promptId,
      optionIds: [r.optionId],
      clientBallotId: randomUUID(),
    }),
    sync: await r.client.send("room:sync", { since: r.client.stream.seq }),
  };
}

describe("rights at every command", () => {
  it("refuses a member banned meanwhile at their next command, on another node, with nothing stored", async () => {
    const r = await room();
    expectOk(await r.client.send("annotation:create", { paragraphId: r.paragraphId, body: "before" }));
    const before = await nodeA.prisma.seminar.findUniqueOrThrow({ where: { id: r.seminar.id } });
    // The change is made in the database only: no node is told, so only a check when the command
    // runs can refuse it.
    await nodeA.prisma.membership.update({
      where: { id: r.guest.member.id },
      data: { status: "banned", rightsVersion: { increment: 1 } },
    });
    const tried = await attempts(r);
    expect(tried.annotate).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(tried.vote).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(tried.sync).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const after = await nodeA.prisma.seminar.findUniqueOrThrow({ where: { id: r.seminar.id } });
    expect(after.lastSeq).toBe(before.lastSeq);
    expect(await nodeA.prisma.ballot.count({ where: { memberId: r.guest.member.id } })).toBe(0);
    expect(await nodeA.prisma.annotation.count({ where: { authorId: r.guest.member.id } })).toBe(1);
    for (const c of [r.host, r.client]) c.close();
  });

  it("refuses a member whose role changed (their connection was admitted with other rights)", async () => {
    const r = await room();
    await nodeA.prisma.membership.update({
      where: { id: r.guest.member.id },
      data: { role: "observer", rightsVersion: { increment: 1 } },
    });
    const tried = await attempts(r);
    expect(tried.annotate).toMatchObject({ ok: false, error: { code: "unauthenticated" } });
    expect(tried.vote).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(tried.sync).toMatchObject({ ok: false, error: { code: "unauthenticated" } });
    expect(await nodeA.prisma.annotation.count({ where: { authorId: r.guest.member.id } })).toBe(0);
    for (const c of [r.host, r.client]) c.close();
  });

  it("tells a member's sockets on every node why before closing them", async () => {
    const r = await room();
    const second = await RoomClient.join(nodeA.url, { token: r.guest.token });
    const told = [r.client, second].map(
      (c) =>
        new Promise<{ closing: ClosingView; reason: string }>((resolve) =>
          c.socket.once("connection:closing", (closing) =>
            c.socket.once("disconnect", (reason) => resolve({ closing, reason })),
          ),
        ),
    );
    // Node A decides; the socket on node B hears it through the adapter.
    nodeA.app.realtime.notifier.closeMember(r.guest.member.id, "kicked");
    for (const { closing, reason } of await Promise.all(told)) {
      expect(closing).toMatchObject({ reason: "kicked", message: expect.stringContaining("removed") });
      expect(reason).toBe("io server disconnect");
    }
    r.host.close();
  });
});
