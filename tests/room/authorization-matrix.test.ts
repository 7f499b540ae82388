/**
 * Every command of the registry, tried by every kind of member: the host, a co-moderator, a
 * participant, an observer, a muted participant, a kicked and a banned participant whose
 * connection has not been closed yet (the race a kick on another node leaves), and another
 * seminar's moderator. Each answer is checked; a refusal (and anything another seminar's
 * moderator does) must leave this seminar's rows exactly as they were and send its room nothing.
 * The answers for the first five also agree with the rights table (moderation.policy), whose
 * refusal reason comes back in the error's details. A command added to the registry without a
 * row here fails the test (and the compile).
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  COMMAND_RIGHTS,
  holdsRight,
  type RightHolder,
  refusalOf,
} from "../../src/modules/moderation/moderation.policy.ts";
import { COMMAND_INPUTS, type CommandName, type CommandPayload } from "../../src/protocol/commands.ts";
import type { ErrorCode, Result } from "../../src/protocol/result.ts";
import type { RoomStreamEvent, SeminarState } from "../../src/protocol/views.ts";
import { buildModerator, buildSeminar } from "../helpers/factories.ts";
import { type ClientSocket, connect, send, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();
const accounts = {
  host: await buildModerator(server, { displayName: "Host" }),
  co: await buildModerator(server, { displayName: "Co" }),
  outsider: await buildModerator(server, { displayName: "Outsider" }),
};

const ROLE_NAMES = [
  "host",
  "co_moderator",
  "participant",
  "observer",
  "muted",
  "kicked",
  "banned",
  "outsider",
] as const;
type RoleName = (typeof ROLE_NAMES)[number];
type Code = "ok" | ErrorCode;
type Expected = Record<RoleName, Code>;

/** The moderator whose targets a command uses (each moderator acts on their own, so both succeed). */
type Slot = "host" | "co_moderator";
const slotOf = (role: RoleName): Slot => (role === "co_moderator" ? "co_moderator" : "host");

/** What a room of the matrix holds: its members by role, and targets for each moderator. */
interface Fixture {
  seminarId: string;
  state: SeminarState;
  paragraphId: string;
  member: Record<Exclude<RoleName, "outsider">, string>;
  /** Participants each moderator acts on (mute, kick, ban, role, lower a hand). */
  victim: Record<Slot, string>;
  /** Each writer's own annotation (written before the mute, kick or ban). */
  own: Partial<Record<RoleName, string>>;
  /** Another participant's annotation each moderator moderates. */
  note: Record<Slot, string>;
  /** An annotation anyone may answer or react to. */
  shared: string;
  prompts: {
    draft: Record<Slot, string>;
    opened: Record<Slot, string>;
    closed: Record<Slot, string>;
    unrevealed: Record<Slot, string>;
    ballot: { promptId: string; optionId: string };
  };
  sockets: Record<RoleName, ClientSocket>;
  /** A second connection of the host that records every room event. */
  watcher: { socket: ClientSocket; events: RoomStreamEvent[] };
}

/** A command's row: the payload each role sends and the answer each gets. */
interface Row<C extends CommandName> {
  payload(fx: Fixture, role: RoleName): CommandPayload<C>;
  expected: Expected;
  /** The room is a draft (the session has not started). */
  draft?: boolean;
  /** Each role that succeeds gets a room of its own (one success takes away what the next needs). */
  isolate?: boolean;
  /** Changes made to the room before the attempts (directly in the database: no events). */
  prepare?(fx: Fixture): Promise<void>;
}

/**
 * Expected answers: the roles listed succeed; kicked and banned members are forbidden, another
 * seminar's moderator finds nothing of this seminar (not_found), everyone else is forbidden;
 * `overrides` say otherwise where it differs.
 */
function expect_(ok: RoleName[], overrides: Partial<Expected> = {}): Expected {
  const entries = ROLE_NAMES.map((role): [RoleName, Code] => [
    role,
    ok.includes(role) ? "ok" : role === "outsider" ? "not_found" : "forbidden",
  ]);
  return { ...Object.fromEntries(entries), ...overrides } as Expected;
}

const MODERATORS: RoleName[] = ["host", "co_moderator"];
const WRITERS: RoleName[] = ["host", "co_moderator", "participant"];
const EVERYONE: RoleName[] = ["host", "co_moderator", "participant", "observer", "muted"];

const hide = (ids: string[]) =>
  server.prisma.annotation.updateMany({ where: { id: { in: ids } }, data: { hiddenAt: new Date() } });

/** One row per command of the registry. */
const MATRIX: { [C in CommandName]: Row<C> } = {
  "room:sync": { payload: () => ({}), expected: expect_([...EVERYONE, "outsider"]) },
  // Presence is not stored and not a room event; a kicked member's sockets are closed by the kick.
  "presence:focus": {
    payload: (fx) => ({ paragraphId: fx.paragraphId }),
    expected: expect_([...EVERYONE, "kicked", "banned"]),
  },
  "auth:refresh": { payload: () => ({}), expected: expect_([...EVERYONE, "outsider"]) },
  "seminar:start": {
    payload: () => ({}),
    draft: true,
    isolate: true,
    expected: expect_(MODERATORS, { outsider: "conflict" }),
  },
  "seminar:end": { payload: () => ({}), isolate: true, expected: expect_([...MODERATORS, "outsider"]) },
  "annotation:create": {
    payload: (fx, role) => ({ paragraphId: fx.paragraphId, body: `by ${role}` }),
    expected: expect_(WRITERS),
  },
  "annotation:reply": {
    payload: (fx, role) => ({ parentId: fx.shared, body: `reply by ${role}` }),
    expected: expect_(WRITERS),
  },
  "annotation:edit": {
    payload: (fx, role) => ({ annotationId: fx.own[role] ?? fx.shared, body: "edited" }),
    expected: expect_(WRITERS),
  },
  "annotation:delete": {
    payload: (fx, role) => ({ annotationId: fx.own[role] ?? fx.shared }),
    expected: expect_([...WRITERS, "muted"]),
  },
  "annotation:react": {
    payload: (fx) => ({ annotationId: fx.shared, kind: "agree" }),
    expected: expect_(WRITERS),
  },
  "annotation:hide": {
    payload: (fx, role) => ({ annotationId: fx.note[slotOf(role)], reason: "matrix" }),
    expected: expect_(MODERATORS),
  },
  "annotation:restore": {
    payload: (fx, role) => ({ annotationId: fx.note[slotOf(role)] }),
    prepare: async (fx) => void (await hide([fx.note.host, fx.note.co_moderator])),
    expected: expect_(MODERATORS),
  },
  "annotation:pin": {
    payload: (fx, role) => ({ annotationId: fx.note[slotOf(role)] }),
    expected: expect_(MODERATORS),
  },
  "annotation:unpin": {
    payload: (fx, role) => ({ annotationId: fx.note[slotOf(role)] }),
    prepare: async (fx) =>
      void (await server.prisma.annotation.updateMany({
        where: { id: { in: [fx.note.host, fx.note.co_moderator] } },
        data: { pinnedAt: new Date() },
      })),
    expected: expect_(MODERATORS),
  },
  "annotation:remove": {
    payload: (fx, role) => ({ annotationId: fx.note[slotOf(role)], reason: "matrix" }),
    expected: expect_(MODERATORS),
  },
  "prompt:create": {
    payload: () => ({ kind: "single_choice", question: "Another?", options: ["Yes", "No"] }),
    expected: expect_([...MODERATORS, "outsider"]),
  },
  "prompt:update": {
    payload: (fx, role) => ({
      promptId: fx.prompts.draft[slotOf(role)],
      prompt: { kind: "single_choice", question: "Changed?", options: ["Yes", "No"] },
    }),
    expected: expect_(MODERATORS),
  },
  "prompt:delete": {
    payload: (fx, role) => ({ promptId: fx.prompts.draft[slotOf(role)] }),
    expected: expect_(MODERATORS),
  },
  "prompt:open": {
    payload: (fx, role) => ({ promptId: fx.prompts.draft[slotOf(role)] }),
    expected: expect_(MODERATORS),
  },
  "prompt:close": {
    payload: (fx, role) => ({ promptId: fx.prompts.opened[slotOf(role)] }),
    expected: expect_(MODERATORS),
  },
  "prompt:reopen": {
    payload: (fx, role) => ({ promptId: fx.prompts.closed[slotOf(role)] }),
    expected: expect_(MODERATORS),
  },
  "prompt:reveal": {
    payload: (fx, role) => ({ promptId: fx.prompts.unrevealed[slotOf(role)] }),
    expected: expect_(MODERATORS),
  },
  "prompt:vote": {
    payload: (fx) => ({
      promptId: fx.prompts.ballot.promptId,
      optionIds: [fx.prompts.ballot.optionId],
      clientBallotId: randomUUID(),
    }),
    expected: expect_(["participant", "muted"]),
  },
  "member:mute": {
    payload: (fx, role) => ({ memberId: fx.victim[slotOf(role)], durationSeconds: 60, reason: "matrix" }),
    expected: expect_(MODERATORS),
  },
  "member:unmute": {
    payload: (fx, role) => ({ memberId: fx.victim[slotOf(role)] }),
    prepare: async (fx) =>
      void (await server.prisma.membership.updateMany({
        where: { id: { in: [fx.victim.host, fx.victim.co_moderator] } },
        data: { mutedAt: new Date() },
      })),
    expected: expect_(MODERATORS),
  },
  "member:kick": {
    payload: (fx, role) => ({ memberId: fx.victim[slotOf(role)] }),
    expected: expect_(MODERATORS),
  },
  "member:ban": {
    payload: (fx, role) => ({ memberId: fx.victim[slotOf(role)] }),
    expected: expect_(MODERATORS),
  },
  "member:unban": {
    payload: (fx, role) => ({ memberId: fx.victim[slotOf(role)] }),
    prepare: async (fx) =>
      void (await server.prisma.membership.updateMany({
        where: { id: { in: [fx.victim.host, fx.victim.co_moderator] } },
        data: { status: "banned", rightsVersion: { increment: 1 } },
      })),
    expected: expect_(MODERATORS),
  },
  "member:role": {
    payload: (fx) => ({ memberId: fx.victim.host, role: "co_moderator" }),
    expected: expect_(["host"]),
  },
  "room:lock": { payload: () => ({}), expected: expect_([...MODERATORS, "outsider"]) },
  "room:unlock": {
    payload: () => ({}),
    prepare: async (fx) =>
      void (await server.prisma.seminar.update({ where: { id: fx.seminarId }, data: { locked: true } })),
    expected: expect_([...MODERATORS, "outsider"]),
  },
  "room:slow_mode": { payload: () => ({ seconds: 5 }), expected: expect_([...MODERATORS, "outsider"]) },
  "room:spotlight": { payload: (fx) => ({ paragraphId: fx.paragraphId }), expected: expect_(MODERATORS) },
  "room:phase": {
    payload: () => ({ phase: "discussion", durationSeconds: 600 }),
    expected: expect_([...MODERATORS, "outsider"]),
  },
  "queue:raise": { payload: () => ({}), expected: expect_(["participant"], { outsider: "forbidden" }) },
  "queue:lower": {
    payload: (fx, role) =>
      role === "host" || role === "co_moderator" || role === "outsider"
        ? { memberId: fx.victim[slotOf(role)] }
        : {},
    expected: expect_([...WRITERS, "muted"]),
  },
  "queue:call": { payload: () => ({}), expected: expect_(MODERATORS, { outsider: "conflict" }) },
  "queue:clear": { payload: () => ({}), expected: expect_([...MODERATORS, "outsider"]) },
};

/** A seminar with its own live room for the outsider, who is its host. */
async function outsiderSocket(): Promise<ClientSocket> {
  const { seminar } = await buildSeminar(server, { moderator: accounts.outsider });
  return connect(server.url, { token: accounts.outsider.token, seminarId: seminar.id });
}

/** Guest memberships made directly (no member:joined events), with their tokens. */
async function addGuests(seminarId: string, names: string[], role: "participant" | "observer") {
  const rows = await server.prisma.membership.createManyAndReturn({
    data: names.map((name) => ({ seminarId, role, displayName: `${name} ${randomUUID().slice(0, 6)}` })),
    select: { id: true },
  });
  return rows.map((row) => ({
    id: row.id,
    token: server.app.context.tokens.issue({ kind: "guest", sub: row.id, sem: seminarId, rv: 0 }).token,
  }));
}

const PROMPT = (question: string, resultsVisibility = "live") => ({
  kind: "single_choice",
  question,
  options: ["Yes", "No"],
  resultsVisibility,
});

/** Builds a room of the matrix (live unless `draft`), every member connected. */
async function buildFixture(draft: boolean): Promise<Fixture> {
  const names = ["draftH", "draftC", "ballot", "openH", "openC", "closedH", "closedC", "revealH", "revealC"];
  const { seminar } = await buildSeminar(server, {
    moderator: accounts.host,
    start: !draft,
    prompts: names.map((name) => PROMPT(name, name.startsWith("reveal") ? "moderators" : "live")),
  });
  const seminarId = seminar.id;
  const co = await server.prisma.membership.create({
    data: { seminarId, accountId: accounts.co.accountId, role: "co_moderator", displayName: "Co" },
  });
  const host = await server.prisma.membership.findFirstOrThrow({ where: { seminarId, role: "host" } });
  const [participant, muted, kicked, banned, victimH, victimC, author] = await addGuests(
    seminarId,
    ["Participant", "Muted", "Kicked", "Banned", "VictimH", "VictimC", "Author"],
    "participant",
  );
  const [observer] = await addGuests(seminarId, ["Observer"], "observer");
  const essay = await server.prisma.essay.findUniqueOrThrow({
    where: { seminarId },
    include: { paragraphs: { orderBy: { position: "asc" } } },
  });
  const paragraphId = essay.paragraphs.find((p) => p.kind === "paragraph")!.id;
  const prompts = await server.prisma.prompt.findMany({
    where: { seminarId },
    orderBy: { position: "asc" },
    include: { options: { orderBy: { position: "asc" } } },
  });
  const byName = (name: string) => prompts[names.indexOf(name)]!;
  if (!draft) {
    const now = new Date();
    const ids = (list: string[]) => list.map((name) => byName(name).id);
    await server.prisma.prompt.updateMany({
      where: { id: { in: ids(["ballot", "openH", "openC", "revealH", "revealC"]) } },
      data: { state: "open", openedAt: now },
    });
    await server.prisma.prompt.updateMany({
      where: { id: { in: ids(["closedH", "closedC"]) } },
      data: { state: "closed", openedAt: now, closedAt: now },
    });
  }
  const note = async (authorId: string, body: string) =>
    (await server.prisma.annotation.create({ data: { seminarId, paragraphId, authorId, body } })).id;
  const own: Partial<Record<RoleName, string>> = {};
  if (!draft) {
    own.host = await note(host.id, "host's");
    own.co_moderator = await note(co.id, "co's");
    own.participant = await note(participant!.id, "participant's");
    own.muted = await note(muted!.id, "muted's");
    own.kicked = await note(kicked!.id, "kicked's");
    own.banned = await note(banned!.id, "banned's");
  }
  const shared = draft ? randomUUID() : await note(author!.id, "shared");
  const notes = draft
    ? { host: randomUUID(), co_moderator: randomUUID() }
    : { host: await note(author!.id, "for the host"), co_moderator: await note(author!.id, "for the co") };
  // Raised hands: the participants', the muted one's and each moderator's victim's.
  for (const [seq, memberId] of [participant!.id, muted!.id, victimH!.id, victimC!.id].entries()) {
    await server.prisma.speakingQueueEntry.create({ data: { seminarId, memberId, raisedSeq: seq + 1 } });
  }

  const guest = (token: string) => connect(server.url, { token });
  const sockets: Record<RoleName, ClientSocket> = {
    host: await connect(server.url, { token: accounts.host.token, seminarId }),
    co_moderator: await connect(server.url, { token: accounts.co.token, seminarId }),
    participant: await guest(participant!.token),
    observer: await guest(observer!.token),
    muted: await guest(muted!.token),
    kicked: await guest(kicked!.token),
    banned: await guest(banned!.token),
    outsider: await outsiderSocket(),
  };
  // Mute, kick and ban behind the connections' backs, as a command from another node would find
  // them: the connections are still open, the database says otherwise.
  await server.prisma.membership.update({ where: { id: muted!.id }, data: { mutedAt: new Date() } });
  await server.prisma.membership.update({
    where: { id: kicked!.id },
    data: { status: "kicked", rightsVersion: { increment: 1 } },
  });
  await server.prisma.membership.update({
    where: { id: banned!.id },
    data: { status: "banned", rightsVersion: { increment: 1 } },
  });
  const watcherSocket = await connect(server.url, { token: accounts.host.token, seminarId });
  const watcher = { socket: watcherSocket, events: [] as RoomStreamEvent[] };
  watcherSocket.on("room:event", (event) => watcher.events.push(event));
  watcherSocket.on("room:events", (events) => watcher.events.push(...events));
  const slots = <T>(h: T, c: T): Record<Slot, T> => ({ host: h, co_moderator: c });
  const ballot = byName("ballot");
  return {
    seminarId,
    state: draft ? "draft" : "live",
    paragraphId,
    member: {
      host: host.id,
      co_moderator: co.id,
      participant: participant!.id,
      observer: observer!.id,
      muted: muted!.id,
      kicked: kicked!.id,
      banned: banned!.id,
    },
    victim: slots(victimH!.id, victimC!.id),
    own,
    note: notes,
    shared,
    prompts: {
      draft: slots(byName("draftH").id, byName("draftC").id),
      opened: slots(byName("openH").id, byName("openC").id),
      closed: slots(byName("closedH").id, byName("closedC").id),
      unrevealed: slots(byName("revealH").id, byName("revealC").id),
      ballot: { promptId: ballot.id, optionId: ballot.options[0]!.id },
    },
    sockets,
    watcher,
  };
}

function closeFixture(fx: Fixture): void {
  for (const socket of [...Object.values(fx.sockets), fx.watcher.socket]) socket.close();
}

/** Everything of a seminar a command could change, read in one go. */
async function fingerprint(seminarId: string): Promise<string> {
  const db = server.prisma;
  const byId = { orderBy: { id: "asc" as const } };
  const rows = await Promise.all([
    db.seminar.findUniqueOrThrow({ where: { id: seminarId } }),
    db.essay.findUnique({ where: { seminarId }, select: { frozenAt: true } }),
    db.membership.findMany({ where: { seminarId }, ...byId }),
    db.annotation.findMany({ where: { seminarId }, ...byId, include: { reactions: true, revisions: true } }),
    db.prompt.findMany({ where: { seminarId }, ...byId, include: { options: true } }),
    db.ballot.findMany({ where: { prompt: { seminarId } }, ...byId, include: { choices: true } }),
    db.moderationAction.findMany({ where: { seminarId }, ...byId }),
    db.speakingQueueEntry.findMany({ where: { seminarId }, ...byId }),
    db.phase.findMany({ where: { seminarId }, ...byId }),
    db.roomEvent.count({ where: { seminarId } }),
  ]);
  // updatedAt moves with any write, so it is part of the print too.
  return JSON.stringify(rows);
}

/** The error code (or "ok") of an answer. */
const codeOf = (result: Result<unknown>): Code => (result.ok ? "ok" : result.error.code);

/** A holder of the rights table for the first five roles. */
const HOLDERS: Partial<Record<RoleName, RightHolder>> = {
  host: { role: "host", status: "active", muted: false },
  co_moderator: { role: "co_moderator", status: "active", muted: false },
  participant: { role: "participant", status: "active", muted: false },
  observer: { role: "observer", status: "active", muted: false },
  muted: { role: "participant", status: "active", muted: true },
};

/** Tries `command` as `role` in `fx` and checks the answer (and, unless it succeeds here, nothing changed). */
async function attempt<C extends CommandName>(command: C, row: Row<C>, fx: Fixture, role: RoleName) {
  const want = row.expected[role];
  const before = await fingerprint(fx.seminarId);
  const seqBefore = JSON.parse(before)[0].lastSeq as number;
  const answer = await send(fx.sockets[role], command, row.payload(fx, role));
  const label = `${command} as ${role}: ${answer.ok ? "ok" : `${answer.error.code} ${answer.error.message}`}`;
  expect(codeOf(answer), label).toBe(want);

  const holder = HOLDERS[role];
  if (holder) {
    const right = COMMAND_RIGHTS[command];
    // The table and the server agree: what succeeded is a right the table gives, and a refusal
    // the table makes comes back with the table's reason.
    if (want === "ok") expect(holdsRight(right, holder, fx.state), label).toBe(true);
    const refusal = refusalOf(right, holder, fx.state);
    if (refusal) {
      expect(answer, label).toMatchObject({
        ok: false,
        error: { code: refusal.code, details: { reason: refusal.details.reason } },
      });
    }
  }
  if (want === "ok" && role !== "outsider") return;
  // Refused (or done in another seminar): nothing of this seminar changed, nothing was sent to it.
  expect(await fingerprint(fx.seminarId), label).toBe(before);
  const sync = await send(fx.watcher.socket, "room:sync", { since: seqBefore });
  expect(sync, label).toMatchObject({ ok: true, data: { mode: "events", events: [] } });
  expect(fx.watcher.events, label).toEqual([]);
}

describe("the authorisation matrix", () => {
  it("has a row for every command of the registry", () => {
    expect(Object.keys(MATRIX).sort()).toEqual(Object.keys(COMMAND_INPUTS).sort());
  });

  it.each(Object.keys(COMMAND_INPUTS) as CommandName[])(
    "answers %s as the table says, for every role",
    async (command) => {
      const row = MATRIX[command] as Row<typeof command>;
      expect(row, `${command} has no row in the matrix`).toBeDefined();
      const refused = ROLE_NAMES.filter((role) => row.expected[role] !== "ok" || role === "outsider");
      const allowed = ROLE_NAMES.filter((role) => row.expected[role] === "ok" && role !== "outsider");
      const fx = await buildFixture(row.draft ?? false);
      try {
        await row.prepare?.(fx);
        for (const role of refused) await attempt(command, row, fx, role);
        if (!row.isolate) for (const role of allowed) await attempt(command, row, fx, role);
      } finally {
        closeFixture(fx);
      }
      if (row.isolate) {
        for (const role of allowed) {
          const own = await buildFixture(row.draft ?? false);
          try {
            await row.prepare?.(own);
            await attempt(command, row, own, role);
          } finally {
            closeFixture(own);
          }
        }
      }
    },
    60_000,
  );
});
