// Catch-ups asked at the same moment are read together (a hall reconnecting after a restart): each
// answer must be the one its viewer gets alone, whatever else was in the same read: other viewers'
// roles, other `since`s, a viewer refused, a viewer that needs a snapshot.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.ts";
import { catchUps } from "../../src/modules/seminars/snapshot.ts";
import type { Result } from "../../src/protocol/result.ts";
import type { SyncView } from "../../src/protocol/views.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { RoomClient, send, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

/** The room's last sequence number, as stored. */
async function storedSeq(seminarId: string): Promise<number> {
  return (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminarId } })).lastSeq;
}

/** An answer without the moment presence was read (the one field two reads may differ in). */
function comparable(result: Result<SyncView>): unknown {
  if (!result.ok) return { error: result.error.code };
  const view = result.data;
  if (view.mode === "snapshot") return { mode: "snapshot", seq: view.snapshot.seq };
  const { at: _at, ...summary } = view.presenceSummary;
  return { ...view, presenceSummary: summary };
}

describe("room:sync catch-ups asked together", () => {
  it("answer every viewer as it is answered alone", async () => {
    const { seminar, moderator } = await buildSeminar(server, {
      prompts: [{ kind: "single_choice", question: "Read on?", options: ["Yes", "No"] }],
    });
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const guests = await Promise.all(
      ["Ada", "Bob", "Cy", "Eve"].map((name) => buildGuest(server, seminar.joinCode!, name)),
    );
    const [ada, bob, cy, eve] = await Promise.all(
      guests.map((guest) => RoomClient.join(server.url, { token: guest.token })),
    );
    const start = await storedSeq(seminar.id);
    const paragraph = host.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!;
    const promptId = host.stream.state!.prompts[0]!.id;

    // A history with something every kind of viewer sees differently: guests arriving (a range
    // omitted for participants, named for moderators), a thread, a hidden annotation, a prompt.
    await buildGuest(server, seminar.joinCode!, "Dee");
    const root = expectOk(await ada!.send("annotation:create", { paragraphId: paragraph.id, body: "Root" }));
    expectOk(await host.send("prompt:open", { promptId }));
    const middle = await storedSeq(seminar.id);
    expectOk(await bob!.send("annotation:reply", { parentId: root.id, body: "A reply" }));
    const hidden = expectOk(
      await cy!.send("annotation:create", { paragraphId: paragraph.id, body: "Off topic" }),
    );
    expectOk(await host.send("annotation:hide", { annotationId: hidden.id }));
    const yes = host.stream.state!.prompts[0]!.options[0]!.id;
    expectOk(await ada!.send("prompt:vote", { promptId, optionIds: [yes], clientBallotId: randomUUID() }));
    await buildGuest(server, seminar.joinCode!, "Fay");
    await ada!.send("presence:focus", { paragraphId: paragraph.id });
    const last = await storedSeq(seminar.id);
    expect(last).toBeGreaterThan(middle);
    expect(middle).toBeGreaterThan(start);
    await Promise.all([host, ada, bob, cy].map((client) => client!.waitForSeq(last)));
    // Eve is banned (stored, as a moderator on another node would): her catch-up is refused.
    await server.prisma.membership.update({
      where: { id: guests[3]!.member.id },
      data: { status: "banned", rightsVersion: { increment: 1 } },
    });

    const asks: [RoomClient, number][] = [
      [host, start],
      [host, middle],
      [ada!, start],
      [bob!, middle],
      [cy!, start],
      [cy!, last],
      [eve!, start],
      // Ahead of the log: a snapshot instead.
      [bob!, last + 50],
    ];
    const ask = ([client, since]: [RoomClient, number]) => send(client.socket, "room:sync", { since });
    const alone: Result<SyncView>[] = [];
    for (const item of asks) alone.push(await ask(item));
    const together = await Promise.all(asks.map(ask));
    expect(together.map(comparable)).toEqual(alone.map(comparable));

    // The same requests in one read for certain (the socket requests above wait at the gate with
    // whoever else is there): a null answer is a snapshot, an error the refusal.
    const viewerOf = (client: RoomClient) => {
      const viewer = client.stream.state!.viewer;
      return {
        seminarId: seminar.id,
        memberId: viewer.memberId,
        role: viewer.role,
        displayName: viewer.displayName,
      };
    };
    const eveViewer = {
      seminarId: seminar.id,
      memberId: guests[3]!.member.id,
      role: "participant" as const,
      displayName: "Eve",
    };
    const read = await catchUps(
      server.app.context,
      server.app.realtime.presence,
      seminar.id,
      asks.map(([client, since]) => ({ viewer: client === eve ? eveViewer : viewerOf(client), since })),
    );
    const direct = read.map((answer, i): unknown => {
      if (answer instanceof AppError) return { error: answer.code };
      if (answer === null) return comparable(alone[i]!);
      return comparable({ ok: true, data: answer });
    });
    expect(direct).toEqual(alone.map(comparable));
    expect(read.filter((answer) => answer === null)).toHaveLength(1);

    // And each answer is what its viewer may see.
    const eventsOf = (result: Result<SyncView> | undefined) => {
      if (!result?.ok || result.data.mode !== "events")
        throw new Error(`not a catch-up: ${JSON.stringify(result)}`);
      return result.data.events;
    };
    const [hostAll, , adaAll, , , cyNothing, eveRefused, bobAhead] = together;
    expect(eveRefused).toMatchObject({ ok: false });
    expect(bobAhead).toMatchObject({ ok: true, data: { mode: "snapshot", snapshot: { seq: last } } });
    expect(eventsOf(cyNothing)).toEqual([]);
    expect(eventsOf(hostAll).map((event) => event.type)).toContain("member:joined");
    expect(eventsOf(adaAll).map((event) => event.type)).not.toContain("member:joined");
    expect(eventsOf(adaAll).map((event) => event.type)).toContain("room:omitted");
    expect(JSON.stringify(eventsOf(adaAll))).not.toContain("Off topic");
    expect(JSON.stringify(eventsOf(hostAll))).toContain("Off topic");
    for (const client of [host, ada, bob, cy, eve]) client!.close();
  });
});
