import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { TallyView } from "../../src/protocol/views.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { eventually, RoomClient, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

describe("ending the session", () => {
  it("closes open prompts first, sends their final tallies and then refuses writes with room_closed", async () => {
    const { seminar, moderator } = await buildSeminar(server, {
      prompts: [
        { kind: "single_choice", question: "Should DeepSeek be a national team?", options: ["Yes", "No"] },
      ],
    });
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const guest = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Voter")).token,
    });
    const prompt = host.stream.state!.prompts[0]!;
    expectOk(await host.send("prompt:open", { promptId: prompt.id }));
    expectOk(
      await guest.send("prompt:vote", {
        promptId: prompt.id,
        optionIds: [prompt.options[0]!.id],
        clientBallotId: randomUUID(),
      }),
    );

    expectOk(await host.send("seminar:end", {}));
    await eventually(
      () => guest.stream.state!.seminar.state === "ended",
      5_000,
      "the end to reach the guest",
    );
    const types = guest.stream.applied.map((event) => event.type);
    expect(types.slice(-2)).toEqual(["prompt:closed", "seminar:ended"]);
    expect(guest.stream.state!.prompts[0]!.state).toBe("closed");
    const final = guest.stream.state!.tallies.find((tally: TallyView) => tally.promptId === prompt.id);
    expect(final).toMatchObject({ ballots: 1, counts: { [prompt.options[0]!.id]: 1 } });

    const seq = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    expect(
      await guest.send("prompt:vote", {
        promptId: prompt.id,
        optionIds: [prompt.options[1]!.id],
        clientBallotId: randomUUID(),
      }),
    ).toMatchObject({ ok: false, error: { code: "room_closed" } });
    expect(
      await guest.send("annotation:create", {
        paragraphId: guest.stream.state!.essay.paragraphs[1]!.id,
        body: "late",
      }),
    ).toMatchObject({
      ok: false,
      error: { code: "room_closed" },
    });
    expect((await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq).toBe(seq);
    expect(await server.prisma.ballot.count({ where: { promptId: prompt.id } })).toBe(1);
    host.close();
    guest.close();
  });

  it("ends a running phase with the session, so an ended room shows no countdown", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const guest = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Reader")).token,
    });
    const started = expectOk(await host.send("room:phase", { phase: "discussion", durationSeconds: 600 }));
    const phaseId = started.phase!.id;
    expect(started.phase!.endedAt).toBeNull();

    const ended = expectOk(await host.send("seminar:end", {}));
    await guest.waitForSeq(ended.seq);
    // The live stream: the phase ended (by the system) just before the session did.
    const last = guest.stream.applied.slice(-2);
    expect(last.map((event) => event.type)).toEqual(["room:phase_ended", "seminar:ended"]);
    expect(last[0]!.actor).toBeNull();
    expect(guest.stream.state!.phase).toMatchObject({ id: phaseId, endedAt: expect.any(String) });
    // The stored phase and a fresh snapshot agree: ended, before its deadline.
    const stored = await server.prisma.phase.findUniqueOrThrow({ where: { id: phaseId } });
    expect(stored.endedAt).not.toBeNull();
    expect(stored.endedAt!.getTime()).toBeLessThan(stored.deadlineAt!.getTime());
    const fresh = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    expect(fresh.stream.state!.phase).toMatchObject({ id: phaseId, endedAt: stored.endedAt!.toISOString() });
    for (const client of [host, guest, fresh]) client.close();
  });
});
