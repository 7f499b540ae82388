/**
 * Who holds the roster: moderators' room state holds every member; a participant's or observer's
 * holds the members it refers to (the moderators, itself, the authors of its annotations and who
 * reacted, the raised hands), through real sockets on a real PostgreSQL. Guests' first arrivals
 * reach participants as room:omitted ranges, so their streams stay gap-free, and their live state
 * stays equal to a fresh snapshot's whatever happens in the room.
 */
import { describe, expect, it } from "vitest";
import type { PresenceView, RoomSnapshot } from "../../src/protocol/views.ts";
import { buildGuest, buildSeminar, expectOk, type GuestSession } from "../helpers/factories.ts";
import { coveredSeqs, eventually, RoomClient, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

const byId = <T extends { id: string }>(list: readonly T[]) =>
  [...list].sort((a, b) => (a.id < b.id ? -1 : 1));
const byMember = (list: readonly PresenceView[]) =>
  [...list].sort((a, b) => (a.memberId < b.memberId ? -1 : 1));

/** What a participant's room state shows, for comparing live state with a fresh snapshot. */
function view(state: RoomSnapshot | undefined) {
  if (!state) throw new Error("no state");
  return {
    seq: state.seq,
    members: state.members,
    annotations: byId(state.annotations),
    queue: state.queue,
    seminar: state.seminar,
  };
}

async function lastSeq(seminarId: string): Promise<number> {
  return (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminarId } })).lastSeq;
}

async function joinAll(code: string, names: string[]): Promise<GuestSession[]> {
  return Promise.all(names.map((name) => buildGuest(server, code, name)));
}

describe("the roster", () => {
  it("is in a moderator's snapshot, not in a participant's or an observer's (REST snapshots alike)", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const code = seminar.joinCode!;
    const [ada] = await joinAll(code, ["Ada", "Bob", "Cy"]);
    const watcher = await buildGuest(server, code, "Olive", true);

    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    // Guests admitted together share a joinedAt (the roster's order is then by id): compare as sets.
    expect(host.stream.state!.members.map((m) => m.displayName).sort()).toEqual([
      "Ada",
      "Bob",
      "Cy",
      "Moderator",
      "Olive",
    ]);

    const participant = await RoomClient.join(server.url, { token: ada!.token });
    expect(participant.stream.state!.members.map((m) => m.displayName)).toEqual(["Moderator", "Ada"]);
    const observer = await RoomClient.join(server.url, { token: watcher.token });
    expect(observer.stream.state!.members.map((m) => m.displayName)).toEqual(["Moderator", "Olive"]);

    const rest = expectOk(
      await server.http<RoomSnapshot>("GET", `/api/seminars/${seminar.id}`, undefined, ada!.token),
    );
    expect(rest.members.map((m) => m.displayName)).toEqual(["Moderator", "Ada"]);
    const restHost = expectOk(
      await server.http<RoomSnapshot>("GET", `/api/seminars/${seminar.id}`, undefined, moderator.token),
    );
    expect(restHost.members).toHaveLength(5);
    for (const client of [host, participant, observer]) client.close();
  });

  it("sends guests' arrivals to moderators as member:joined and to participants as omitted ranges, gap-free", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const code = seminar.joinCode!;
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const watcher = await RoomClient.join(server.url, {
      token: (await buildGuest(server, code, "Watcher")).token,
    });
    const start = Math.max(watcher.stream.seq, await lastSeq(seminar.id));
    await host.waitForSeq(start);
    await watcher.waitForSeq(start);

    const names = Array.from({ length: 12 }, (_, i) => `Arrival ${i + 1}`);
    await joinAll(code, names);
    const target = await lastSeq(seminar.id);
    expect(target).toBe(start + 12);
    await host.waitForSeq(target);
    await watcher.waitForSeq(target);

    const joined = host.received.filter((event) => event.seq > start && event.type === "member:joined");
    expect(joined.map((event) => event.seq)).toEqual(Array.from({ length: 12 }, (_, i) => start + 1 + i));
    expect(
      joined
        .flatMap((event) => (event.type === "member:joined" ? [event.data.member.displayName] : []))
        .sort(),
    ).toEqual([...names].sort());
    expect(host.stream.state!.members).toHaveLength(14);

    const seen = watcher.received.filter((event) => event.seq > start);
    expect(seen.some((event) => event.type === "member:joined")).toBe(false);
    expect(seen.every((event) => event.type === "room:omitted")).toBe(true);
    // The burst came in few entries (consecutive arrivals travel as one range), covering every seq once.
    expect(seen.length).toBeLessThan(12);
    expect(coveredSeqs(seen).filter((seq) => seq > start)).toEqual(
      Array.from({ length: 12 }, (_, i) => start + 1 + i),
    );
    expect(watcher.stream.state!.members.map((m) => m.displayName)).toEqual(["Moderator", "Watcher"]);
    expect(watcher.syncErrors).toEqual([]);
    host.close();
    watcher.close();
  });

  it("keeps a participant's live state equal to a fresh snapshot's through joins, posts, reactions, hands, hides, a kick and return, and a promotion", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const code = seminar.joinCode!;
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const watcherGuest = await buildGuest(server, code, "Watcher");
    const watcher = await RoomClient.join(server.url, { token: watcherGuest.token });
    const guests = await joinAll(code, ["Ann", "Ben", "Cat", "Dan", "Eve"]);
    const [ann, ben, cat, dan, eve] = await Promise.all(
      guests.map((guest) => RoomClient.join(server.url, { token: guest.token })),
    );
    const paragraphId = watcher.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;

    // Ann posts (her view comes with the event), Ben reacts, Eve reacts and takes it back, Cat
    // raises her hand, Dan posts and the host hides it (withdrawn: Dan is no longer referred to).
    const note = expectOk(await ann!.send("annotation:create", { paragraphId, body: "A first thought." }));
    expectOk(await ben!.send("annotation:react", { annotationId: note.id, kind: "agree" }));
    expectOk(await eve!.send("annotation:react", { annotationId: note.id, kind: "heart" }));
    expectOk(await eve!.send("annotation:react", { annotationId: note.id, kind: "heart" }));
    expectOk(await cat!.send("queue:raise", {}));
    const hidden = expectOk(await dan!.send("annotation:create", { paragraphId, body: "Off topic." }));
    await eventually(
      () => watcher.stream.state!.members.some((m) => m.displayName === "Dan"),
      5_000,
      "Dan's view with his annotation",
    );
    expectOk(await host.send("annotation:hide", { annotationId: hidden.id }));

    // Ann is kicked and comes back with her resume secret (member:joined, rejoined: everyone sees
    // her active again); Ben becomes co-moderator (member:moderated).
    expectOk(await host.send("member:kick", { memberId: guests[0]!.member.id }));
    const back = expectOk(
      await server.http<GuestSession>("POST", "/api/seminars/join", {
        code,
        displayName: "Ann",
        resumeSecret: guests[0]!.resumeSecret,
      }),
    );
    expect(back.member.id).toBe(guests[0]!.member.id);
    expectOk(await host.send("member:role", { memberId: guests[1]!.member.id, role: "co_moderator" }));
    await joinAll(code, ["Late 1", "Late 2", "Late 3"]);

    const target = await lastSeq(seminar.id);
    await watcher.waitForSeq(target);
    const fresh = await RoomClient.join(server.url, { token: watcherGuest.token });
    expect(fresh.stream.seq).toBe(target);
    expect(view(watcher.stream.state)).toEqual(view(fresh.stream.state));
    expect(watcher.stream.state!.members.map((m) => `${m.displayName}:${m.role}:${m.status}`).sort()).toEqual(
      [
        "Ann:participant:active",
        "Ben:co_moderator:active",
        "Cat:participant:active",
        "Moderator:host:active",
        "Watcher:participant:active",
      ],
    );
    // Presence is coalesced (500 ms): the live list settles on what a fresh snapshot reads.
    await expect
      .poll(() => byMember(watcher.stream.state!.presence), { timeout: 5_000 })
      .toEqual(byMember(fresh.stream.state!.presence));
    expect(watcher.syncErrors).toEqual([]);
    for (const client of [host, watcher, fresh, ann, ben, cat, dan, eve]) client?.close();
  });

  it("catches a participant up over a run of arrivals with one omitted range", async () => {
    const { seminar } = await buildSeminar(server);
    const code = seminar.joinCode!;
    const watcherGuest = await buildGuest(server, code, "Watcher");
    const watcher = await RoomClient.join(server.url, { token: watcherGuest.token });
    const leaverGuest = await buildGuest(server, code, "Leaver");
    const leaver = await RoomClient.join(server.url, { token: leaverGuest.token });
    const cut = await lastSeq(seminar.id);
    await leaver.waitForSeq(cut);
    leaver.socket.io.engine.close();
    await joinAll(
      code,
      Array.from({ length: 10 }, (_, i) => `Later ${i + 1}`),
    );
    // The arrivals have gone out live (a participant who stayed has them), so the one coming back
    // gets them from its catch-up, not from a live range still on its way.
    await watcher.waitForSeq(cut + 10);
    const back = await RoomClient.join(server.url, { token: leaverGuest.token }, leaver.stream);
    expect(back.stream.applied).toEqual([
      expect.objectContaining({ type: "room:omitted", seq: cut + 10, data: { from: cut + 1 } }),
    ]);
    expect(back.stream.seq).toBe(await lastSeq(seminar.id));
    back.close();
    leaver.close();
    watcher.close();
  });
});
