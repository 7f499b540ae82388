/**
 * One record, one rule: every viewer gets the same view of every annotation whichever way it
 * reaches them (live, catch-up from any seq, snapshot over the socket, snapshot and list over REST),
 * and a change made after an event was written (an edit, a deletion, a moderator hiding it) shows
 * on catch-up by the annotation's current state.
 */
import { describe, expect, it } from "vitest";
import { AUDIENCE_VIEWERS } from "../../src/modules/seminars/seminars.policy.ts";
import { pseudonymsOf } from "../../src/modules/seminars/seminars.presenter.ts";
import { listMemberRecords } from "../../src/modules/seminars/seminars.service.ts";
import type { AnnotationPage } from "../../src/protocol/annotations.ts";
import { RoomStream } from "../../src/protocol/room-state.ts";
import type { AnnotationView, ParagraphView, RoomSnapshot } from "../../src/protocol/views.ts";
import { presentEvent } from "../../src/realtime/presenters.ts";
import { readEventsSince } from "../../src/realtime/room-log.ts";
import { loadSubjects } from "../../src/realtime/subjects.ts";
import { buildGuest, buildModerator, buildSeminar, expectOk } from "../helpers/factories.ts";
import { eventually, RoomClient, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

const byId = (list: AnnotationView[]) => [...list].sort((a, b) => (a.id < b.id ? -1 : 1));

/** The seminar with a host, a co-moderator, an author, another participant and an observer. */
async function buildRoom() {
  const { seminar, moderator } = await buildSeminar(server);
  const co = await buildModerator(server, { displayName: "Co" });
  await server.prisma.membership.create({
    data: { seminarId: seminar.id, accountId: co.accountId, role: "co_moderator", displayName: "Co" },
  });
  const author = await buildGuest(server, seminar.joinCode!, "Author");
  const other = await buildGuest(server, seminar.joinCode!, "Other");
  const observer = await buildGuest(server, seminar.joinCode!, "Observer", true);
  const auth = {
    host: { token: moderator.token, seminarId: seminar.id },
    co_moderator: { token: co.token, seminarId: seminar.id },
    author: { token: author.token },
    other: { token: other.token },
    observer: { token: observer.token },
  };
  const restToken: Record<ViewerName, string> = {
    host: moderator.token,
    co_moderator: co.token,
    author: author.token,
    other: other.token,
    observer: observer.token,
  };
  return { seminar, auth, restToken };
}

type ViewerName = "host" | "co_moderator" | "author" | "other" | "observer";
const VIEWERS: ViewerName[] = ["host", "co_moderator", "author", "other", "observer"];

describe("who sees what, by every path", () => {
  it("gives each viewer one view of visible, edited, deleted and hidden annotations on every path", async () => {
    const { seminar, auth, restToken } = await buildRoom();
    // Every viewer watches live from the start, and keeps a copy of its state at each seq, so
    // that catch-up can start from any point a real client could have stopped at.
    const live = new Map<ViewerName, RoomClient>();
    const states = new Map<ViewerName, Map<number, RoomSnapshot>>();
    for (const name of VIEWERS) {
      const client = await RoomClient.join(server.url, auth[name]);
      live.set(name, client);
      const copies = new Map([[client.stream.seq, structuredClone(client.stream.state!)]]);
      states.set(name, copies);
      client.socket.onAny(() => {
        const state = client.stream.state;
        if (state && !copies.has(state.seq)) copies.set(state.seq, structuredClone(state));
      });
    }
    const start = live.get("host")!.stream.seq;
    const author = live.get("author")!;
    const host = live.get("host")!;
    const paragraph = (live.get("host")!.stream.state!.essay.paragraphs as ParagraphView[]).find(
      (p) => p.kind === "paragraph",
    )!;

    const create = async (body: string) =>
      expectOk(await author.send("annotation:create", { paragraphId: paragraph.id, body, tags: ["t"] }));
    const visible = await create("stays as written");
    const edited = await create("first version");
    const deleted = await create("withdrawn later");
    const hidden = await create("hidden later");
    expectOk(await live.get("other")!.send("annotation:react", { annotationId: hidden.id, kind: "agree" }));
    expectOk(await author.send("annotation:edit", { annotationId: edited.id, body: "second version" }));
    expectOk(await author.send("annotation:delete", { annotationId: deleted.id }));
    expectOk(await host.send("annotation:hide", { annotationId: hidden.id, reason: "off topic" }));
    expectOk(await host.send("annotation:pin", { annotationId: visible.id }));
    const end = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    for (const client of live.values()) await client.waitForSeq(end);

    const expected = (name: ViewerName) => {
      const privileged = name === "host" || name === "co_moderator" || name === "author";
      return privileged
        ? [visible.id, edited.id, deleted.id, hidden.id]
        : [visible.id, edited.id, deleted.id];
    };

    for (const name of VIEWERS) {
      const paths: Record<string, AnnotationView[]> = {};
      paths.live = live.get(name)!.stream.state!.annotations;

      // Catch-up from the start, from the middle and from one before the end.
      const copies = states.get(name)!;
      for (const since of [start, start + 3, end - 1]) {
        const state = copies.get(since);
        expect(state, `${name} has a state at seq ${since}`).toBeDefined();
        const stream = new RoomStream();
        stream.state = structuredClone(state!);
        const client = await RoomClient.join(server.url, auth[name], stream);
        expect(client.stream.seq).toBe(end);
        paths[`catch-up from ${since}`] = client.stream.state!.annotations;
        client.close();
      }

      const fresh = await RoomClient.join(server.url, auth[name]);
      paths.snapshot = fresh.stream.state!.annotations;
      fresh.close();

      const token = restToken[name];
      const rest = expectOk(
        await server.http<RoomSnapshot>("GET", `/api/seminars/${seminar.id}`, undefined, token),
      );
      paths["REST snapshot"] = rest.annotations;
      const page = expectOk(
        await server.http<AnnotationPage>("GET", `/api/seminars/${seminar.id}/annotations`, undefined, token),
      );
      paths["REST list"] = page.items;

      const reference = byId(paths.snapshot);
      expect(reference.map((a) => a.id).sort()).toEqual(expected(name).sort());
      for (const [path, annotations] of Object.entries(paths)) {
        expect(byId(annotations), `${name} by ${path}`).toEqual(reference);
      }
      // The current state, whatever path: the edit, the tombstone, the pin, the hidden mark.
      const seen = new Map(reference.map((a) => [a.id, a]));
      expect(seen.get(edited.id)).toMatchObject({ body: "second version", version: 2 });
      expect(seen.get(deleted.id)).toMatchObject({ body: "", tags: [], deleted: true });
      expect(seen.get(visible.id)).toMatchObject({ pinned: true, body: "stays as written" });
      if (seen.has(hidden.id)) {
        expect(seen.get(hidden.id)).toMatchObject({
          hidden: true,
          body: "hidden later",
          reactions: { agree: [expect.any(String)] },
        });
      }
    }

    // The log holds facts only: no text of any annotation is stored in it.
    const stored = await server.prisma.roomEvent.findMany({ where: { seminarId: seminar.id } });
    const log = JSON.stringify(stored.map((event) => event.data));
    for (const text of [
      "stays as written",
      "first version",
      "second version",
      "withdrawn later",
      "hidden later",
    ]) {
      expect(log).not.toContain(text);
    }
    // The withdrawn text is gone from storage too (row and earlier versions).
    const revisions = await server.prisma.annotationRevision.findMany({
      where: { annotationId: deleted.id },
    });
    expect(revisions).toEqual([]);
    for (const client of live.values()) client.close();
  });

  it("sends a hidden annotation's author their own view live, and everyone else annotation:withdrawn", async () => {
    const { auth } = await buildRoom();
    const host = await RoomClient.join(server.url, auth.host);
    const author = await RoomClient.join(server.url, auth.author);
    const other = await RoomClient.join(server.url, auth.other);
    const paragraph = host.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!;
    const note = expectOk(
      await author.send("annotation:create", { paragraphId: paragraph.id, body: "mine" }),
    );
    const hide = expectOk(await host.send("annotation:hide", { annotationId: note.id, reason: "spoilers" }));
    await eventually(
      () => other.received.some((event) => event.type === "annotation:withdrawn"),
      5_000,
      "withdrawn",
    );
    await eventually(
      () => author.received.some((event) => event.type === "annotation:moderated"),
      5_000,
      "moderated",
    );
    await eventually(
      () => host.received.some((event) => event.type === "annotation:moderated"),
      5_000,
      "host view",
    );
    const seen = (client: RoomClient) =>
      client.received.filter((event) => event.type.startsWith("annotation:"));
    expect(seen(other).at(-1)).toMatchObject({
      type: "annotation:withdrawn",
      data: { annotationId: note.id },
    });
    expect(seen(author).at(-1)).toMatchObject({
      type: "annotation:moderated",
      data: { action: "hide", reason: "spoilers", annotation: { id: note.id, hidden: true, body: "mine" } },
    });
    expect(seen(host).at(-1)).toMatchObject({ type: "annotation:moderated", data: { reason: "spoilers" } });
    expect(hide.hidden).toBe(true);
    // Each got the event once (no duplicate for the author through the participants' room).
    const hideSeq = seen(host).at(-1)!.seq;
    for (const client of [host, author, other]) {
      expect(client.received.filter((event) => event.seq === hideSeq)).toHaveLength(1);
    }
    for (const client of [host, author, other]) client.close();
  });

  it("presents the whole log for an anonymised reader with stable pseudonyms and the participants' rule", async () => {
    const { seminar, auth } = await buildRoom();
    const host = await RoomClient.join(server.url, auth.host);
    const author = await RoomClient.join(server.url, auth.author);
    const paragraph = host.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!;
    const shown = expectOk(
      await author.send("annotation:create", { paragraphId: paragraph.id, body: "shown" }),
    );
    const gone = expectOk(
      await author.send("annotation:create", { paragraphId: paragraph.id, body: "gone" }),
    );
    expectOk(await host.send("annotation:hide", { annotationId: gone.id }));
    const events = await readEventsSince(server.prisma, seminar.id, 0, 10_000);
    const subjects = await loadSubjects(server.prisma, seminar.id, events);
    const pseudonyms = pseudonymsOf(await listMemberRecords(server.prisma, seminar.id));
    const reader = { ...AUDIENCE_VIEWERS.participants, anonymized: true };
    const twice = [0, 1].map(() =>
      events.map((event) =>
        presentEvent(event, { viewer: reader, subjects, publicUrl: server.url, pseudonyms }),
      ),
    );
    expect(twice[0]).toEqual(twice[1]);
    const names = twice[0]!.flatMap((event) =>
      "member" in event.data ? [event.data.member.displayName] : [],
    );
    // The three guests joined by code (moderators' memberships are not join events).
    expect(names).toEqual(["Participant 1", "Participant 2", "Observer 1"]);
    expect(names).not.toContain("Author");
    const notes = twice[0]!.filter((event) => event.type === "annotation:created");
    expect(notes.map((event) => ("annotation" in event.data ? event.data.annotation.id : null))).toEqual([
      shown.id,
    ]);
    for (const client of [host, author]) client.close();
  });
});
