import { describe, expect, it } from "vitest";
import { applyRoomEvent, RoomStream, summarisePresence } from "./room-state.ts";
import type {
  AnnotationView,
  MemberView,
  OmittedEventsView,
  PresenceView,
  RoomEventView,
  RoomSnapshot,
  SyncView,
} from "./views.ts";

const AT = "2026-12-01T10:00:00.000Z";

function member(id: string, role: MemberView["role"] = "participant", joinedAt = AT): MemberView {
  return { id, displayName: id, role, status: "active", joinedAt, muted: false, mutedUntil: null };
}

function snapshot(seq: number, viewer: MemberView, members: MemberView[]): RoomSnapshot {
  return {
    seq,
    seminar: {
      id: "s",
      title: "t",
      state: "live",
      locked: false,
      slowModeSeconds: 0,
      spotlightParagraphId: null,
      transcriptAccess: false,
      startedAt: AT,
      endedAt: null,
      createdAt: AT,
    },
    essay: { title: "e", byline: null, dateline: null, language: null, frozen: true, paragraphs: [] },
    members,
    presence: [],
    presenceSummary: { at: 0, present: 0, reading: [], complete: true },
    annotations: [],
    prompts: [],
    tallies: [],
    myBallots: [],
    viewer: {
      memberId: viewer.id,
      role: viewer.role,
      displayName: viewer.displayName,
      permissions: { moderate: false, annotate: true, vote: true, raiseHand: true, changeRoles: false },
    },
    spotlight: null,
    phase: null,
    queue: [],
  };
}

function omitted(from: number, seq: number): OmittedEventsView {
  return { seq, type: "room:omitted", at: AT, actor: null, data: { from } };
}

function note(id: string, authorId: string, reactions: Record<string, string[]> = {}): AnnotationView {
  return {
    id,
    paragraphId: "p",
    authorId,
    parentId: null,
    selector: null,
    body: "b",
    tags: [],
    version: 1,
    reactions,
    deleted: false,
    hidden: false,
    pinned: false,
    createdAt: AT,
    editedAt: null,
  };
}

function created(seq: number, annotation: AnnotationView, members: MemberView[]): RoomEventView {
  return {
    seq,
    type: "annotation:created",
    at: AT,
    actor: annotation.authorId,
    data: { annotation },
    members,
  };
}

function lock(seq: number): RoomEventView {
  return { seq, type: "room:locked", at: AT, actor: "host", data: { locked: true, reason: null, log: null } };
}

describe("omitted ranges in the room stream", () => {
  const me = member("me");

  it("advances over a range as over the events it stands for, and applies what follows", () => {
    const stream = new RoomStream();
    stream.sync({ mode: "snapshot", snapshot: snapshot(4, me, [me]) });
    expect(stream.receive(omitted(5, 9))).toBe(false);
    expect(stream.receive(lock(10))).toBe(false);
    expect(stream.seq).toBe(10);
    expect(stream.state!.seminar.locked).toBe(true);
    expect(stream.applied.map((entry) => entry.seq)).toEqual([9, 10]);
  });

  it("reports a gap before a range and fills it in order when the missing part arrives", () => {
    const stream = new RoomStream();
    stream.sync({ mode: "snapshot", snapshot: snapshot(4, me, [me]) });
    expect(stream.receive(omitted(7, 9))).toBe(true);
    expect(stream.receive(lock(10))).toBe(true);
    stream.sync({
      mode: "events",
      seq: 10,
      events: [omitted(5, 6)],
      tallies: [],
      presence: [],
      presenceSummary: summarisePresence([], 1),
    });
    expect(stream.seq).toBe(10);
    expect(stream.applied.map((entry) => entry.seq)).toEqual([6, 9, 10]);
  });

  it("takes a range that a snapshot fell inside from the snapshot's seq on, and drops one it covers", () => {
    const stream = new RoomStream();
    stream.receive(omitted(3, 8));
    stream.receive(omitted(1, 2));
    stream.receive(lock(9));
    stream.sync({ mode: "snapshot", snapshot: snapshot(5, me, [me]) });
    expect(stream.seq).toBe(9);
    expect(stream.applied.map((entry) => entry.seq)).toEqual([8, 9]);
    expect(stream.receive(omitted(6, 8))).toBe(false);
    expect(stream.seq).toBe(9);
  });
});

describe("a participant's roster", () => {
  const me = member("me");
  const host = member("host", "host", "2026-12-01T09:00:00.000Z");
  const ann = member("ann", "participant", "2026-12-01T10:01:00.000Z");
  const ben = member("ben", "participant", "2026-12-01T10:02:00.000Z");

  it("takes in the members an event carries and keeps only those its state refers to", () => {
    const state = snapshot(1, me, [host, me]);
    applyRoomEvent(state, created(2, note("a1", "ann", { agree: ["ben"] }), [ann, ben]));
    expect(state.members.map((m) => m.id)).toEqual(["host", "me", "ann", "ben"]);
    applyRoomEvent(state, {
      seq: 3,
      type: "annotation:reacted",
      at: AT,
      actor: "ben",
      data: { annotationId: "a1", kind: "agree", memberId: "ben", active: false },
    });
    expect(state.members.map((m) => m.id)).toEqual(["host", "me", "ann"]);
    applyRoomEvent(state, {
      seq: 4,
      type: "annotation:withdrawn",
      at: AT,
      actor: "host",
      data: { annotationId: "a1" },
    });
    expect(state.members.map((m) => m.id)).toEqual(["host", "me"]);
  });

  it("keeps a member who becomes a moderator, and drops a moderator who becomes a participant", () => {
    const state = snapshot(1, me, [host, me]);
    const promoted = { ...ann, role: "co_moderator" as const };
    applyRoomEvent(state, {
      seq: 2,
      type: "member:moderated",
      at: AT,
      actor: "host",
      data: { member: promoted, action: "role", reason: null, log: null },
    });
    expect(state.members.map((m) => m.id)).toEqual(["host", "me", "ann"]);
    applyRoomEvent(state, {
      seq: 3,
      type: "member:moderated",
      at: AT,
      actor: "host",
      data: { member: ann, action: "role", reason: null, log: null },
    });
    expect(state.members.map((m) => m.id)).toEqual(["host", "me"]);
  });

  it("leaves a moderator's whole roster alone", () => {
    const state = snapshot(1, host, [host, me, ann, ben]);
    state.viewer.role = "host";
    applyRoomEvent(state, lock(2));
    expect(state.members).toHaveLength(4);
  });
});

describe("presence across room:sync requests", () => {
  const viewer = member("v");
  const here = (id: string, paragraphId: string | null = null) => ({
    memberId: id,
    displayName: id,
    paragraphId,
  });
  let clock = 0;
  const catchUp = (seq: number, presence: PresenceView[], at = ++clock): SyncView => ({
    mode: "events",
    seq,
    events: [],
    tallies: [],
    presence,
    presenceSummary: summarisePresence(presence, at),
  });

  it("keeps a delta that arrives between the answers of two requests in flight", () => {
    const stream = new RoomStream();
    stream.sync({ mode: "snapshot", snapshot: snapshot(1, viewer, [viewer]) });
    stream.syncing(); // first request
    stream.syncing(); // second request, sent before the first is answered
    // The second request's presence is read now (v only); then x arrives, then the first answer.
    stream.sync(catchUp(1, [here("v")]));
    stream.receivePresence({ joined: [here("x")], left: [], focus: [] });
    // The second answer carries the presence read before x arrived.
    stream.sync(catchUp(1, [here("v")]));
    expect(stream.state!.presence.map((entry) => entry.memberId).sort()).toEqual(["v", "x"]);
  });

  it("replays, in order, the deltas since the request on top of the answer, whatever their age", () => {
    const stream = new RoomStream();
    stream.sync({ mode: "snapshot", snapshot: snapshot(1, viewer, [viewer]) });
    stream.syncing();
    stream.receivePresence({ joined: [here("x")], left: [], focus: [] });
    stream.receivePresence({ joined: [here("y")], left: ["x"], focus: [] });
    // Read after x joined and before x left: the replay ends with x gone and y here.
    stream.sync(catchUp(1, [here("v"), here("x")]));
    expect(stream.state!.presence.map((entry) => entry.memberId).sort()).toEqual(["v", "y"]);
  });

  it("forgets the deltas once no request is in flight, including one abandoned", () => {
    const stream = new RoomStream();
    stream.sync({ mode: "snapshot", snapshot: snapshot(1, viewer, [viewer]) });
    stream.syncing();
    stream.receivePresence({ joined: [here("x")], left: [], focus: [] });
    stream.syncAbandoned();
    // x has since left (the server's list says so); the abandoned request's deltas are not replayed.
    stream.syncing();
    stream.sync(catchUp(1, [here("v")]));
    expect(stream.state!.presence.map((entry) => entry.memberId)).toEqual(["v"]);
  });

  it("keeps a moderator's counts in step with the deltas", () => {
    const stream = new RoomStream();
    stream.sync({ mode: "snapshot", snapshot: snapshot(1, viewer, [viewer]) });
    stream.receivePresence({ joined: [here("x", "p1"), here("y", "p1")], left: [], focus: [] });
    stream.receivePresence({ joined: [], left: ["y"], focus: [here("v", "p2")] });
    expect(stream.state!.presenceSummary).toEqual({
      at: 0,
      present: 2,
      reading: [
        { paragraphId: "p1", count: 1 },
        { paragraphId: "p2", count: 1 },
      ],
      complete: true,
    });
  });

  describe("as participants get it (presence:update, whole)", () => {
    const host = here("host");
    const update = (at: number, present: number) => ({
      presence: [host],
      presenceSummary: { at, present, reading: [{ paragraphId: "p1", count: present }], complete: false },
    });

    it("keeps the newest update, whatever order they arrive in", () => {
      const stream = new RoomStream();
      stream.sync({ mode: "snapshot", snapshot: snapshot(1, viewer, [viewer]) });
      stream.receivePresenceUpdate(update(20, 500));
      stream.receivePresenceUpdate(update(10, 400));
      expect(stream.state!.presenceSummary.present).toBe(500);
      expect(stream.state!.presence).toEqual([host]);
      stream.receivePresenceUpdate(update(30, 600));
      expect(stream.state!.presenceSummary).toEqual(update(30, 600).presenceSummary);
    });

    it("keeps an update newer than a sync answer read before it, and takes an answer read after", () => {
      const stream = new RoomStream();
      stream.sync({ mode: "snapshot", snapshot: snapshot(1, viewer, [viewer]) });
      stream.syncing();
      stream.receivePresenceUpdate(update(50, 700));
      stream.sync(catchUp(1, [here("v")], 40));
      expect(stream.state!.presenceSummary.present).toBe(700);
      stream.syncing();
      stream.sync(catchUp(1, [here("v"), host], 60));
      expect(stream.state!.presenceSummary).toMatchObject({ at: 60, present: 2, complete: true });
    });

    it("puts an update that arrived before its snapshot on top of it when newer", () => {
      const stream = new RoomStream();
      stream.receivePresenceUpdate(update(50, 700));
      const first = snapshot(1, viewer, [viewer]);
      first.presenceSummary = { at: 40, present: 650, reading: [], complete: false };
      stream.sync({ mode: "snapshot", snapshot: first });
      expect(stream.state!.presenceSummary.present).toBe(700);
      const later = snapshot(2, viewer, [viewer]);
      later.presenceSummary = { at: 70, present: 720, reading: [], complete: false };
      stream.sync({ mode: "snapshot", snapshot: later });
      expect(stream.state!.presenceSummary.present).toBe(720);
    });
  });
});
