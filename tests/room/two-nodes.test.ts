import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { PromptView, RoomSnapshot } from "../../src/protocol/views.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { redisEnv } from "../helpers/redis.ts";
import { eventually, RoomClient, startTestServer } from "../helpers/server.ts";

const env = { JWT_SECRET: "two-nodes-secret-two-nodes-secret-1234", ...redisEnv() };
const nodeA = await startTestServer(env);
const nodeB = await startTestServer(env, { database: nodeA.db });

describe("two nodes behind one deployment (Redis adapter)", () => {
  it("delivers room events and tallies written on one node to clients connected to the other", async () => {
    const { seminar, moderator } = await buildSeminar(nodeA, {
      prompts: [
        { kind: "single_choice", question: "Should DeepSeek be a national team?", options: ["Yes", "No"] },
      ],
    });
    const host = await RoomClient.join(nodeA.url, { token: moderator.token, seminarId: seminar.id });
    const onB = await RoomClient.join(nodeB.url, {
      token: (await buildGuest(nodeB, seminar.joinCode!, "On B")).token,
    });
    const onA = await RoomClient.join(nodeA.url, {
      token: (await buildGuest(nodeA, seminar.joinCode!, "On A")).token,
    });

    const paragraphId = onA.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;
    const note = expectOk(await onA.send("annotation:create", { paragraphId, body: "written on A" }));
    await eventually(
      () => onB.stream.state!.annotations.some((a) => a.id === note.id),
      5_000,
      "the annotation on B",
    );

    const prompt = host.stream.state!.prompts[0] as PromptView;
    expectOk(await host.send("prompt:open", { promptId: prompt.id }));
    expectOk(
      await onB.send("prompt:vote", {
        promptId: prompt.id,
        optionIds: [prompt.options[0]!.id],
        clientBallotId: randomUUID(),
      }),
    );
    await eventually(
      () => onA.stream.state!.tallies.some((t) => t.promptId === prompt.id && t.ballots === 1),
      5_000,
      "B's ballot in A's tally",
    );
    // Both clients hold the same room, at the same sequence number.
    await eventually(() => onA.stream.seq === onB.stream.seq, 5_000, "equal seq");
    expect(onB.stream.state!.annotations).toEqual(onA.stream.state!.annotations);
    // Each participant's state holds the members it refers to: the same ones besides the two of
    // them, and B's holds A, whose annotation it shows (A's view came with the event).
    const viewers = [onA.stream.state!.viewer.memberId, onB.stream.state!.viewer.memberId];
    const others = (state: RoomSnapshot) => state.members.filter((m) => !viewers.includes(m.id));
    expect(others(onB.stream.state!)).toEqual(others(onA.stream.state!));
    expect(onB.stream.state!.members.map((m) => m.id)).toContain(onA.stream.state!.viewer.memberId);
    for (const client of [host, onA, onB]) client.close();
  });

  it("bans a member on one node and closes their connections on the other, which then refuses them", async () => {
    const { seminar, moderator } = await buildSeminar(nodeA);
    const host = await RoomClient.join(nodeA.url, { token: moderator.token, seminarId: seminar.id });
    const ada = await buildGuest(nodeB, seminar.joinCode!, "Ada");
    const onB = await RoomClient.join(nodeB.url, { token: ada.token });
    const closing = new Promise<string>((resolve) =>
      onB.socket.once("connection:closing", (info) => resolve(info.reason)),
    );
    expectOk(await host.send("member:ban", { memberId: ada.member.id, reason: "across nodes" }));
    expect(await closing).toBe("banned");
    await eventually(() => !onB.socket.connected, 5_000, "the banned socket on B to close");
    const again = await nodeB.http("POST", "/api/seminars/resume", { secret: ada.resumeSecret });
    expect(again.body).toMatchObject({
      ok: false,
      error: { code: "forbidden", details: { reason: "banned" } },
    });
    host.close();
  });
});
