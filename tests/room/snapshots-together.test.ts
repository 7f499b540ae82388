/**
 * Snapshots built together (a crowd's room:sync at the same moment shares one transaction) are
 * exactly the snapshots each viewer gets alone: their own view, ballots, hidden annotations and
 * roster, and a refused member's error without holding the others back. Real PostgreSQL, real
 * sockets.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.ts";
import { buildSnapshot, buildSnapshots, type SnapshotViewer } from "../../src/modules/seminars/snapshot.ts";
import type { RoomSnapshot } from "../../src/protocol/views.ts";
import { buildGuest, buildSeminar, expectOk, YES_NO } from "../helpers/factories.ts";
import { RoomClient, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

describe("snapshots built together", () => {
  it("equal each viewer's snapshot built alone, and refuse a kicked member alone", async () => {
    const { seminar, moderator } = await buildSeminar(server, { prompts: [YES_NO] });
    const code = seminar.joinCode!;
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const prompt = host.stream.state!.prompts[0]!;
    expectOk(await host.send("prompt:open", { promptId: prompt.id }));
    const [ada, bo, cy] = await Promise.all(
      ["Ada", "Bo", "Cy"].map((name) => buildGuest(server, code, name)),
    );
    const olive = await buildGuest(server, code, "Olive", true);
    const [a, b] = await Promise.all(
      [ada, bo].map((guest) => RoomClient.join(server.url, { token: guest!.token })),
    );
    const paragraphId = a!.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;
    // Ada's hidden comment (hers and the moderators' to see), Bo's reaction, Ada's ballot.
    const hidden = expectOk(await a!.send("annotation:create", { paragraphId, body: "Hidden later." }));
    const shown = expectOk(await b!.send("annotation:create", { paragraphId, body: "Stays." }));
    expectOk(await a!.send("annotation:react", { annotationId: shown.id, kind: "agree" }));
    expectOk(await host.send("annotation:hide", { annotationId: hidden.id }));
    expectOk(
      await a!.send("prompt:vote", {
        promptId: prompt.id,
        optionIds: [prompt.options[0]!.id],
        clientBallotId: randomUUID(),
      }),
    );
    expectOk(await host.send("member:kick", { memberId: cy!.member.id }));

    const hostMember = await server.prisma.membership.findFirstOrThrow({
      where: { seminarId: seminar.id, role: "host" },
    });
    const viewers: SnapshotViewer[] = [
      { seminarId: seminar.id, memberId: ada!.member.id, role: "participant", displayName: "Ada" },
      { seminarId: seminar.id, memberId: cy!.member.id, role: "participant", displayName: "Cy" },
      { seminarId: seminar.id, memberId: bo!.member.id, role: "participant", displayName: "Bo" },
      { seminarId: seminar.id, memberId: olive.member.id, role: "observer", displayName: "Olive" },
      { seminarId: seminar.id, memberId: hostMember.id, role: "host", displayName: hostMember.displayName },
    ];
    const { context, realtime } = server.app;
    const together = await buildSnapshots(context, realtime.presence, seminar.id, viewers);
    expect(together).toHaveLength(viewers.length);
    const refused = together[1];
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe("forbidden");
    const alone = await Promise.all(
      viewers.map((viewer) =>
        buildSnapshot(context, realtime.presence, viewer).catch((error: unknown) => error),
      ),
    );
    for (const [i, viewer] of viewers.entries()) {
      if (i === 1) {
        expect((alone[i] as AppError).code).toBe("forbidden");
        continue;
      }
      // Presence may move between the two reads; everything else is as of the same seq.
      const strip = (snapshot: unknown) => ({
        ...(snapshot as RoomSnapshot),
        presence: [],
        presenceSummary: null,
      });
      expect(strip(together[i]), viewer.displayName).toEqual(strip(alone[i]));
    }
    const [adaView, , boView, oliveView, hostView] = together as RoomSnapshot[];
    // What differs by viewer did differ: hidden annotation, ballots, roster, moderation log.
    expect(adaView!.annotations.map((note) => note.id)).toContain(hidden.id);
    expect(boView!.annotations.map((note) => note.id)).not.toContain(hidden.id);
    expect(adaView!.myBallots).toHaveLength(1);
    expect(boView!.myBallots).toEqual([]);
    expect(boView!.members.map((m) => m.displayName).sort()).toEqual(["Ada", "Bo", "Moderator"]);
    expect(oliveView!.members.map((m) => m.displayName).sort()).toEqual(["Ada", "Bo", "Moderator", "Olive"]);
    expect(hostView!.members).toHaveLength(5);
    expect(hostView!.moderationLog?.length).toBeGreaterThan(0);
    expect(boView!.moderationLog).toBeUndefined();
    for (const client of [host, a, b]) client?.close();
  });

  it("serve a crowd's room:sync at once, each with its own view", async () => {
    const { seminar } = await buildSeminar(server);
    const guests = await Promise.all(
      Array.from({ length: 40 }, (_, i) => buildGuest(server, seminar.joinCode!, `Crowd ${i}`)),
    );
    const clients = await Promise.all(
      guests.map((guest) => RoomClient.join(server.url, { token: guest.token })),
    );
    for (const [i, client] of clients.entries()) {
      const state = client.stream.state!;
      expect(state.viewer.memberId).toBe(guests[i]!.member.id);
      expect(state.members.map((m) => m.displayName)).toEqual(["Moderator", `Crowd ${i}`]);
    }
    for (const client of clients) client.close();
  });
});
