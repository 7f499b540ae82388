/**
 * A scripted session through real sockets (joins, annotations, replies, edits, deletions,
 * reactions, votes with changes, hides, pins), then its transcript in every format for every
 * audience: each audience's transcript holds exactly what a client of the same viewer holds,
 * every format parses back, and the anonymised variant names nobody.
 */
import { randomUUID } from "node:crypto";
import { parse as parseDisposition } from "content-disposition";
import MarkdownIt from "markdown-it";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { sliceCodePoints } from "../../src/modules/essays/essay.text.ts";
import type { PromptCreateInput } from "../../src/protocol/prompts.ts";
import { isReferencedMember, referencedMemberIds } from "../../src/protocol/room-state.ts";
import type { TranscriptDocument } from "../../src/protocol/transcripts.ts";
import type { AnnotationView, RoomEventView, RoomStreamEvent, SyncView } from "../../src/protocol/views.ts";
import { buildGuest, buildModerator, buildSeminar, expectOk } from "../helpers/factories.ts";
import { eventually, RoomClient, send, startTestServer } from "../helpers/server.ts";
import { download, errorOf, readCsv, transcriptValidator, unzip } from "../helpers/transcripts.ts";

const server = await startTestServer({ TRANSCRIPTS_PER_MINUTE: "1000" });
// The first download starts the export thread (it loads the server's modules and opens its own
// connections: seconds from the TypeScript sources on a loaded machine).
vi.setConfig({ testTimeout: 90_000 });
const validate = transcriptValidator();

const PROMPTS: PromptCreateInput[] = [
  {
    kind: "single_choice",
    question: "Should DeepSeek be a national team?",
    options: ["Yes", "No", "=SUM(A1:A9)"],
    anonymous: true,
    resultsVisibility: "live",
  },
  {
    kind: "multiple_choice",
    question: "Which parts convinced you?",
    options: ["The data", "The history", "The ending"],
    maxChoices: 2,
    anonymous: false,
    resultsVisibility: "live",
  },
  {
    kind: "scale",
    question: "How sure are you?",
    min: 1,
    max: 5,
    anonymous: true,
    resultsVisibility: "after_close",
  },
  {
    kind: "single_choice",
    question: "Moderators only: who should speak next?",
    options: ["Ada", "Bo"],
    anonymous: false,
    resultsVisibility: "moderators",
  },
];

/** User text that tries to be Markdown, HTML, a link, an image and a spreadsheet formula. */
const HOSTILE = [
  "# Heading? <script>alert(1)</script> [link](https://evil.example/x) ![img](https://evil.example/i.png)",
  '=HYPERLINK("https://evil.example","click") **bold** `code` | table | www.evil.example a@b.example',
  "- list item",
  "1. ordered",
  "    indented code",
  "> quote &amp; <b>html</b>",
].join("\n");

const NAMES = {
  host: "Helena Hostwright",
  co: "Cornelius Comod",
  ada: "Zelda Quaxworth",
  bo: "Bartholomew Ximenes",
  observer: "Olga Onlooker",
  banned: "Mallory Banworthy",
};

interface Session {
  seminarId: string;
  title: string;
  tokens: {
    host: string;
    co: string;
    ada: string;
    bo: string;
    observer: string;
    outsider: string;
    banned: string;
  };
  ids: { ada: string; bo: string; observer: string; banned: string };
  emails: string[];
  annotations: {
    highlight: AnnotationView;
    reply: AnnotationView;
    deleted: AnnotationView;
    hidden: AnnotationView;
  };
  clients: { host: RoomClient; ada: RoomClient; bo: RoomClient; observer: RoomClient };
  promptIds: string[];
}

let session: Session;

/** The parts of a Web Annotation collection the tests read. */
interface WebAnnotationCollection {
  "@context": string;
  type: string;
  total: number;
  first: { type: string; items: WebAnnotation[] };
}
interface WebAnnotation {
  id: string;
  type: string;
  motivation: string;
  creator: { id: string; type: string; nickname: string };
  body?: { type: string; purpose: string; value: string }[];
  target:
    | string
    | {
        source: string;
        selector?: (
          | { type: "TextQuoteSelector"; exact: string; prefix: string; suffix: string }
          | { type: "TextPositionSelector"; start: number; end: number }
        )[];
      };
  audience?: unknown;
  "as:deleted"?: boolean;
}

/** The scripted session: every kind of thing a room does, through real sockets. */
async function runSession(): Promise<Session> {
  const title = "開放模型的啟示：一場讀書會 <b>&</b>";
  const host = await buildModerator(server, { displayName: NAMES.host });
  const { seminar } = await buildSeminar(server, { moderator: host, title, prompts: PROMPTS });
  const co = await buildModerator(server, { displayName: NAMES.co });
  await server.prisma.membership.create({
    data: { seminarId: seminar.id, accountId: co.accountId, role: "co_moderator", displayName: NAMES.co },
  });
  const ada = await buildGuest(server, seminar.joinCode!, NAMES.ada);
  const bo = await buildGuest(server, seminar.joinCode!, NAMES.bo);
  const observer = await buildGuest(server, seminar.joinCode!, NAMES.observer, true);
  const banned = await buildGuest(server, seminar.joinCode!, NAMES.banned);
  const outsiderSeminar = await buildSeminar(server);
  const outsider = await buildGuest(server, outsiderSeminar.seminar.joinCode!, "Someone Else");

  const hostClient = await RoomClient.join(server.url, { token: host.token, seminarId: seminar.id });
  const adaClient = await RoomClient.join(server.url, { token: ada.token });
  const boClient = await RoomClient.join(server.url, { token: bo.token });
  const observerClient = await RoomClient.join(server.url, { token: observer.token });
  const bannedClient = await RoomClient.join(server.url, { token: banned.token });
  const paragraphs = hostClient.stream.state!.essay.paragraphs.filter((p) => p.kind === "paragraph");
  const first = paragraphs[0]!;
  const cjk = paragraphs.find((p) => /[\u4e00-\u9fff]/.test(p.text))!;

  const highlight = expectOk(
    await adaClient.send("annotation:create", {
      paragraphId: first.id,
      selector: { start: 2, end: 9, exact: sliceCodePoints(first.text, 2, 9) },
      body: "first thought",
      tags: ["claim"],
    }),
  );
  expectOk(
    await adaClient.send("annotation:edit", {
      annotationId: highlight.id,
      body: HOSTILE,
      tags: ["claim", "x"],
    }),
  );
  const reply = expectOk(
    await boClient.send("annotation:reply", { parentId: highlight.id, body: "我同意，這段很重要。" }),
  );
  const deleted = expectOk(
    await boClient.send("annotation:create", {
      paragraphId: cjk.id,
      selector: { start: 0, end: 4, exact: sliceCodePoints(cjk.text, 0, 4) },
      body: "withdrawn thought",
    }),
  );
  expectOk(await boClient.send("annotation:delete", { annotationId: deleted.id }));
  const hidden = expectOk(
    await boClient.send("annotation:create", { paragraphId: cjk.id, body: "off-topic rant" }),
  );
  expectOk(await adaClient.send("annotation:react", { annotationId: hidden.id, kind: "disagree" }));
  // A reply in the thread stays visible to everyone when its root is hidden.
  expectOk(
    await adaClient.send("annotation:reply", { parentId: hidden.id, body: "replying under a hidden root" }),
  );
  expectOk(await boClient.send("annotation:react", { annotationId: highlight.id, kind: "agree" }));
  expectOk(await hostClient.send("annotation:hide", { annotationId: hidden.id, reason: "off topic" }));
  expectOk(await hostClient.send("annotation:pin", { annotationId: highlight.id }));
  // Phases and a ban: the session moves on, a spammer is removed (their annotation stays).
  expectOk(await hostClient.send("room:phase", { phase: "reading" }));
  expectOk(await bannedClient.send("annotation:create", { paragraphId: first.id, body: "buy cheap essays" }));
  expectOk(await hostClient.send("member:ban", { memberId: banned.member.id, reason: "spam" }));
  expectOk(await hostClient.send("room:phase", { phase: "discussion" }));
  bannedClient.close();

  const promptIds = hostClient.stream.state!.prompts.map((prompt) => prompt.id);
  const options = (i: number) => hostClient.stream.state!.prompts[i]!.options.map((option) => option.id);
  for (const promptId of promptIds) expectOk(await hostClient.send("prompt:open", { promptId }));
  const vote = (client: RoomClient, i: number, picks: number[]) =>
    client.send("prompt:vote", {
      promptId: promptIds[i]!,
      optionIds: picks.map((pick) => options(i)[pick]!),
      clientBallotId: randomUUID(),
    });
  expectOk(await vote(adaClient, 0, [0]));
  expectOk(await vote(boClient, 0, [1]));
  expectOk(await vote(adaClient, 0, [2])); // a change of mind
  expectOk(await vote(adaClient, 1, [0, 1]));
  expectOk(await vote(boClient, 1, [2]));
  expectOk(await vote(adaClient, 2, [4]));
  expectOk(await vote(boClient, 3, [0]));
  for (const promptId of promptIds) expectOk(await hostClient.send("prompt:close", { promptId }));
  // The closes send the final tallies and store them in the history.
  await eventually(
    async () => (await server.prisma.tallySnapshot.count({ where: { promptId: { in: promptIds } } })) >= 4,
    10_000,
    "stored tallies",
  );
  const lastSeq = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
  for (const client of [hostClient, adaClient, boClient, observerClient]) await client.waitForSeq(lastSeq);

  return {
    seminarId: seminar.id,
    title,
    tokens: {
      host: host.token,
      co: co.token,
      ada: ada.token,
      bo: bo.token,
      observer: observer.token,
      outsider: outsider.token,
      banned: banned.token,
    },
    ids: { ada: ada.member.id, bo: bo.member.id, observer: observer.member.id, banned: banned.member.id },
    emails: [host.email, co.email],
    annotations: { highlight, reply, deleted, hidden },
    clients: { host: hostClient, ada: adaClient, bo: boClient, observer: observerClient },
    promptIds,
  };
}

async function jsonOf(token: string, extra = ""): Promise<TranscriptDocument> {
  const result = await download(server, session.seminarId, token, `format=json${extra}`);
  expect(result.status, result.text.slice(0, 300)).toBe(200);
  const document = JSON.parse(result.text) as TranscriptDocument;
  expect(validate(document), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
  return document;
}

/** What a client of this viewer gets when it catches up from the very start. */
async function catchUp(client: RoomClient): Promise<RoomStreamEvent[]> {
  const answer = expectOk(await send(client.socket, "room:sync", { since: 0 })) as SyncView;
  if (answer.mode !== "events") throw new Error("expected events");
  return answer.events;
}

/**
 * A participant's catch-up set beside the record: the transcript keeps every event, the stream
 * omits guests' first arrivals (room:omitted) and adds the members an event refers to. Returns
 * the record's events less those omitted, the stream's events less their `members`, and the
 * omitted events of the record.
 */
function recordBesideStream(record: RoomEventView[], stream: RoomStreamEvent[]) {
  const omitted = new Set<number>();
  for (const entry of stream) {
    if (entry.type === "room:omitted")
      for (let seq = entry.data.from; seq <= entry.seq; seq++) omitted.add(seq);
  }
  return {
    record: record.filter((event) => !omitted.has(event.seq)),
    stream: stream.flatMap((entry) => {
      if (entry.type === "room:omitted") return [];
      const { members: _members, ...event } = entry;
      return [event];
    }),
    omitted: record.filter((event) => omitted.has(event.seq)),
  };
}

const byId = <T extends { id: string }>(list: T[]) => [...list].sort((a, b) => (a.id < b.id ? -1 : 1));
const withoutRevisions = (list: TranscriptDocument["annotations"]) =>
  list.map(({ revisions: _revisions, ...view }) => view);

beforeAll(async () => {
  session = await runSession();
});

/** The host opens transcripts to participants (a no-op when open; the access test checks before). */
async function openToParticipants(): Promise<void> {
  const settings = { transcriptAccess: true };
  expectOk(
    await server.http("PATCH", `/api/seminars/${session.seminarId}/settings`, settings, session.tokens.host),
  );
}

describe("access", () => {
  it("refuses participants and observers (typed) until the host allows it, in every format", async () => {
    for (const token of [session.tokens.ada, session.tokens.observer]) {
      for (const query of [
        "format=json",
        "format=md",
        "format=csv&table=ballots",
        "format=jsonld",
        "format=zip",
      ]) {
        for (const anonymized of ["", "&anonymized=true"]) {
          const result = await download(server, session.seminarId, token, query + anonymized);
          expect(result.status).toBe(403);
          expect(errorOf(result)).toMatchObject({ ok: false, error: { code: "forbidden" } });
        }
      }
    }
    // Only moderators change the setting; a participant's attempt changes nothing.
    const refused = await server.http(
      "PATCH",
      `/api/seminars/${session.seminarId}/settings`,
      { transcriptAccess: true },
      session.tokens.ada,
    );
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const invalid = await server.http(
      "PATCH",
      `/api/seminars/${session.seminarId}/settings`,
      { transcriptAccess: "yes" },
      session.tokens.host,
    );
    expect(invalid.body).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    const unknown = await server.http(
      "PATCH",
      `/api/seminars/${session.seminarId}/settings`,
      { locked: true },
      session.tokens.host,
    );
    expect(unknown.body).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    expect(
      (await server.prisma.seminar.findUniqueOrThrow({ where: { id: session.seminarId } })).transcriptAccess,
    ).toBe(false);

    const seqBefore = session.clients.ada.stream.seq;
    const allowed = await server.http<{ transcriptAccess: boolean }>(
      "PATCH",
      `/api/seminars/${session.seminarId}/settings`,
      { transcriptAccess: true },
      session.tokens.co,
    );
    expect(expectOk(allowed).transcriptAccess).toBe(true);
    // The room hears about it like any settings change.
    await session.clients.ada.waitForSeq(seqBefore + 1);
    expect(session.clients.ada.stream.state!.seminar.transcriptAccess).toBe(true);
    for (const token of [session.tokens.ada, session.tokens.observer]) {
      expect((await download(server, session.seminarId, token, "format=md")).status).toBe(200);
    }
  });

  it("refuses a banned member (forbidden), whatever the setting", async () => {
    await openToParticipants();
    const result = await download(server, session.seminarId, session.tokens.banned, "format=json");
    expect(result.status).toBe(403);
    expect(errorOf(result)).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("answers not_found to another seminar's members and unauthenticated without a token", async () => {
    const outsider = await download(server, session.seminarId, session.tokens.outsider, "format=json");
    expect(outsider.status).toBe(404);
    expect(errorOf(outsider)).toMatchObject({ error: { code: "not_found" } });
    const stranger = await buildModerator(server);
    const moderatorElsewhere = await download(server, session.seminarId, stranger.token, "format=json");
    expect(errorOf(moderatorElsewhere)).toMatchObject({ error: { code: "not_found" } });
    const anonymous = await download(server, session.seminarId, undefined, "format=json");
    expect(errorOf(anonymous)).toMatchObject({ error: { code: "unauthenticated" } });
  });

  it("validates the query", async () => {
    for (const query of [
      "format=pdf",
      "format=json&table=ballots",
      "format=csv&table=secrets",
      "format=json&anonymized=yes",
      "format=json&debug=1",
      "format=json&format=md",
    ]) {
      const result = await download(server, session.seminarId, session.tokens.host, query);
      expect(result.status, query).toBe(400);
      expect(errorOf(result)).toMatchObject({ error: { code: "validation_failed" } });
    }
  });
});

describe("each audience sees what it could see live", () => {
  it("gives moderators everything, hidden marked, with history, ballots of named prompts and the moderation log", async () => {
    const document = await jsonOf(session.tokens.host);
    const live = session.clients.host.stream.state!;
    const { highlight, reply, deleted, hidden } = session.annotations;
    expect(document.schemaVersion).toBe(1);
    expect(document.anonymized).toBe(false);
    expect(document.viewer).toMatchObject({ role: "host", moderator: true });
    expect(byId(withoutRevisions(document.annotations))).toEqual(byId(live.annotations));
    expect(document.members).toEqual(live.members);
    expect(document.prompts).toEqual(live.prompts);
    expect(document.seminar.joinCode).toBe(live.seminar.joinCode);
    const seen = new Map(document.annotations.map((a) => [a.id, a]));
    expect(seen.get(hidden.id)).toMatchObject({
      hidden: true,
      body: "off-topic rant",
      reactions: { disagree: [session.ids.ada] },
    });
    expect(seen.get(deleted.id)).toMatchObject({ deleted: true, body: "", tags: [], revisions: [] });
    expect(seen.get(highlight.id)).toMatchObject({
      body: HOSTILE,
      version: 2,
      pinned: true,
      tags: ["claim", "x"],
    });
    expect(seen.get(highlight.id)!.revisions).toEqual([
      { version: 1, body: "first thought", tags: ["claim"], replacedAt: expect.any(String) },
    ]);
    expect(seen.get(reply.id)).toMatchObject({ parentId: highlight.id, body: "我同意，這段很重要。" });

    // Ballots: only the named prompts (2 and 4), each tied to its voter; anonymous ones never.
    const [p1, p2, p3, p4] = session.promptIds;
    expect(new Set(document.ballots.map((b) => b.promptId))).toEqual(new Set([p2, p4]));
    expect(
      document.ballots
        .filter((b) => b.promptId === p2)
        .map((b) => b.memberId)
        .sort(),
    ).toEqual([session.ids.ada, session.ids.bo].sort());
    for (const tally of document.tallies) {
      if (tally.promptId === p1 || tally.promptId === p3) expect(tally.voters).toBeUndefined();
      else expect(tally.voters).toBeDefined();
    }
    const final1 = document.tallies.find((t) => t.promptId === p1)!;
    expect(final1.ballots).toBe(2);
    expect(final1.version).toBe(3);
    // The tally history: stored snapshots of every prompt, for moderators.
    expect(new Set(document.tallyHistory.map((t) => t.promptId))).toEqual(new Set([p1, p2, p3, p4]));
    expect(document.moderationLog?.map((entry) => entry.action)).toEqual([
      "annotation:hide",
      "annotation:pin",
      "room:phase",
      "member:ban",
      "room:phase",
    ]);
    expect(document.moderationLog?.[3]).toMatchObject({ targetMemberId: session.ids.banned, reason: "spam" });
    expect(document.members.find((m) => m.id === session.ids.banned)).toMatchObject({ status: "banned" });
    expect(document.annotations.some((a) => a.authorId === session.ids.banned)).toBe(true);
    expect(document.moderationLog?.[0]).toMatchObject({
      targetAnnotationId: hidden.id,
      reason: "off topic",
      targetMemberId: session.ids.bo,
    });

    // The timeline's events are exactly what a moderator's client gets on catch-up, and the
    // stored tallies sit among them in time order.
    const events = document.timeline.flatMap((entry) => (entry.kind === "event" ? [entry.event] : []));
    expect(events).toEqual(await catchUp(session.clients.host));
    expect(document.timeline.some((entry) => entry.kind === "tally")).toBe(true);
    const times = document.timeline.map((entry) => entry.at);
    expect(times).toEqual([...times].sort());
  });

  it("gives participants what they saw: no hidden, their own hidden, no voters, no log", async () => {
    await openToParticipants();
    const { hidden } = session.annotations;
    const [p1, p2, p3, p4] = session.promptIds;
    for (const [name, token, client] of [
      ["ada", session.tokens.ada, session.clients.ada],
      ["bo", session.tokens.bo, session.clients.bo],
      ["observer", session.tokens.observer, session.clients.observer],
    ] as const) {
      const document = await jsonOf(token);
      const fresh = await RoomClient.join(server.url, { token });
      const live = fresh.stream.state!;
      fresh.close();
      expect(byId(withoutRevisions(document.annotations)), name).toEqual(
        byId(client.stream.state!.annotations),
      );
      expect(byId(withoutRevisions(document.annotations)), name).toEqual(byId(live.annotations));
      // The transcript is the record and keeps the roster; the room state holds the members it
      // refers to (the same rule picks them from the transcript's roster).
      const referenced = referencedMemberIds(live);
      expect(document.members.filter((member) => isReferencedMember(member, referenced))).toEqual(
        live.members,
      );
      expect(document.tallies).toEqual(live.tallies);
      expect(document.myBallots).toEqual(live.myBallots);
      expect(document.seminar.joinCode).toBeUndefined();
      expect(document.ballots).toEqual([]);
      expect(document.moderationLog).toBeNull();
      expect(document.annotations.some((a) => a.id === hidden.id)).toBe(name === "bo");
      expect(new Set(document.tallies.map((t) => t.promptId))).toEqual(new Set([p1, p2, p3]));
      expect(document.tallies.every((t) => t.voters === undefined)).toBe(true);
      // History only while the counts were visible: `live` prompts, and the after-close one from its close on.
      expect(document.tallyHistory.some((t) => t.promptId === p4)).toBe(false);
      expect(document.tallyHistory.some((t) => t.promptId === p1)).toBe(true);
      // Own annotations carry their history; others' do not.
      for (const annotation of document.annotations) {
        const own = annotation.authorId === session.ids[name as "ada" | "bo" | "observer"];
        expect(annotation.revisions !== undefined, annotation.id).toBe(own);
      }
      const events = document.timeline.flatMap((entry) => (entry.kind === "event" ? [entry.event] : []));
      const beside = recordBesideStream(events, await catchUp(client));
      expect(beside.record).toEqual(beside.stream);
      expect(beside.omitted.length).toBeGreaterThan(0);
      expect(beside.omitted.every((event) => event.type === "member:joined")).toBe(true);
      // A moderator's reason reaches moderators and the author only, live and here.
      expect(JSON.stringify(document.timeline).includes("off topic")).toBe(name === "bo");
    }
  });
});

describe("formats", () => {
  it("writes CSV tables that parse back to the same rows, formula cells neutralised", async () => {
    await openToParticipants();
    const document = await jsonOf(session.tokens.host);
    const annotations = await download(server, session.seminarId, session.tokens.host, "format=csv");
    expect(annotations.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect([...annotations.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(annotations.text).toContain("\r\n");
    const rows = readCsv(annotations.text);
    expect(rows.map((row) => row.id)).toEqual(document.annotations.map((a) => a.id));
    const highlight = rows.find((row) => row.id === session.annotations.highlight.id)!;
    expect(highlight.body).toBe(HOSTILE);
    expect(highlight.author_name).toBe(NAMES.ada);
    expect(highlight.reactions_agree).toBe("1");
    expect(rows.find((row) => row.id === session.annotations.hidden.id)!.hidden).toBe("true");

    const tallies = readCsv(
      (await download(server, session.seminarId, session.tokens.host, "format=csv&table=tallies")).text,
    );
    const formula = tallies.find((row) => row.source === "final" && row.option_label?.includes("SUM"))!;
    expect(formula.option_label).toBe("'=SUM(A1:A9)");
    const ballots = readCsv(
      (await download(server, session.seminarId, session.tokens.host, "format=csv&table=ballots")).text,
    );
    expect(
      ballots
        .map((row) => row.prompt_id)
        .every((id) => id === session.promptIds[1] || id === session.promptIds[3]),
    ).toBe(true);
    expect(
      ballots.filter((row) => row.member_name === NAMES.ada && row.prompt_id === session.promptIds[1]),
    ).toHaveLength(2);
    const members = readCsv(
      (await download(server, session.seminarId, session.tokens.host, "format=csv&table=members")).text,
    );
    expect(members.map((row) => row.display_name)).toEqual(document.members.map((m) => m.displayName));
    const timeline = readCsv(
      (await download(server, session.seminarId, session.tokens.host, "format=csv&table=timeline")).text,
    );
    expect(timeline).toHaveLength(document.timeline.length);

    // A participant's ballots table has its header and no rows.
    const theirs = await download(server, session.seminarId, session.tokens.ada, "format=csv&table=ballots");
    expect(readCsv(theirs.text)).toEqual([]);
    expect(theirs.text.replace(/^\uFEFF/, "").startsWith("prompt_id,")).toBe(true);
  });

  it("writes Markdown that renders the essay, annotations and tallies, with user text inert", async () => {
    await openToParticipants();
    const result = await download(server, session.seminarId, session.tokens.host, "format=md");
    expect(result.headers.get("content-type")).toBe("text/markdown; charset=utf-8; variant=CommonMark");
    const renderer = new MarkdownIt({ html: true, linkify: true });
    const html = renderer.render(result.text);
    expect(html).not.toMatch(/<script|<a |<img|<b>|<code>|<strong>bold/);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("[link](https://evil.example/x)");
    expect(html).toContain("=HYPERLINK");
    // Our own structure only: one h1 (the title, escaped), headings of ours.
    expect(html.match(/<h1>/g)).toHaveLength(1);
    expect(html).toContain("<h1>開放模型的啟示：一場讀書會 &lt;b&gt;&amp;&lt;/b&gt;</h1>");
    expect(html).toContain("我同意，這段很重要。");
    expect(html).toContain("開放的模型讓更多人參與研究，這是一個值得討論的問題。");
    expect(html).toContain("<table>");
    expect(html).toMatch(/Should DeepSeek be a national team\?/);
    expect(html).toContain("█");
    expect(html).toContain("hidden by a moderator");
    expect(html).toContain(`${NAMES.host} banned ${NAMES.banned} (spam)`);
    expect(html).toMatch(/started the phase “[^”]+”/);
    // A participant sees the reply under the hidden root, in a thread whose root is not shown.
    const theirs = renderer.render(
      (await download(server, session.seminarId, session.tokens.observer, "format=md")).text,
    );
    expect(theirs).toContain("replying under a hidden root");
    expect(theirs).toContain("A thread whose first annotation is not shown to you");
    expect(theirs).not.toContain("off-topic rant");
    expect(html).not.toContain("A thread whose first annotation is not shown to you");
  });

  it("writes a Web Annotation collection whose selectors quote the paragraphs at their offsets", async () => {
    const document = await jsonOf(session.tokens.host);
    const result = await download(server, session.seminarId, session.tokens.host, "format=jsonld");
    expect(result.headers.get("content-type")).toContain("application/ld+json");
    const collection = JSON.parse(result.text) as WebAnnotationCollection;
    expect(collection["@context"]).toBe("http://www.w3.org/ns/anno.jsonld");
    expect(collection.type).toBe("AnnotationCollection");
    expect(collection.first.type).toBe("AnnotationPage");
    const items = collection.first.items;
    expect(collection.total).toBe(items.length);
    expect(items.map((item) => item.id)).toEqual(document.annotations.map((a) => `urn:uuid:${a.id}`));
    const texts = new Map(document.essay.paragraphs.map((p) => [`urn:uuid:${p.id}`, p.text]));
    let selectors = 0;
    for (const item of items) {
      expect(item.type).toBe("Annotation");
      expect(item.creator.type).toBe("Person");
      for (const body of item.body ?? []) {
        expect(body.type).toBe("TextualBody");
        expect(["commenting", "replying", "tagging"]).toContain(body.purpose);
      }
      if (typeof item.target === "string") {
        // A reply targets the annotation it answers, which is in the collection.
        expect(item.motivation).toBe("replying");
        expect(items.some((other) => other.id === item.target)).toBe(true);
        continue;
      }
      expect(item.motivation).toBe("commenting");
      const text = texts.get(item.target.source)!;
      expect(text).toBeDefined();
      const quote = item.target.selector?.find((s) => s.type === "TextQuoteSelector");
      const position = item.target.selector?.find((s) => s.type === "TextPositionSelector");
      if (!quote || !position) continue;
      expect(sliceCodePoints(text, position.start, position.end)).toBe(quote.exact);
      expect(sliceCodePoints(text, 0, position.start).endsWith(quote.prefix)).toBe(true);
      expect(sliceCodePoints(text, position.end).startsWith(quote.suffix)).toBe(true);
      selectors++;
    }
    expect(selectors).toBe(2);
    const find = (id: string) => items.find((item) => item.id === `urn:uuid:${id}`)!;
    const tags = find(session.annotations.highlight.id).body!.filter((b) => b.purpose === "tagging");
    expect(tags.map((b) => b.value)).toEqual(["claim", "x"]);
    const tombstone = find(session.annotations.deleted.id);
    expect(tombstone.body).toBeUndefined();
    expect(tombstone["as:deleted"]).toBe(true);
    expect(find(session.annotations.hidden.id).audience).toMatchObject({
      "schema:audienceType": "moderators",
    });
  });

  it("puts every format in one zip, each entry equal to its own download", async () => {
    const result = await download(server, session.seminarId, session.tokens.host, "format=zip");
    expect(result.headers.get("content-type")).toBe("application/zip");
    const entries = await unzip(result.bytes);
    const names = [...entries.keys()].map((name) => name.split("/").at(-1));
    expect(names.sort()).toEqual(
      [
        "annotations.csv",
        "annotations.jsonld",
        "ballots.csv",
        "members.csv",
        "tallies.csv",
        "timeline.csv",
        "transcript.json",
        "transcript.md",
      ].sort(),
    );
    const entry = (name: string) =>
      [...entries].find(([key]) => key.endsWith(`/${name}`))![1].toString("utf8");
    const zipped = JSON.parse(entry("transcript.json")) as TranscriptDocument;
    expect(validate(zipped)).toBe(true);
    const alone = await jsonOf(session.tokens.host);
    expect({ ...zipped, generatedAt: "" }).toEqual({ ...alone, generatedAt: "" });
    for (const table of ["annotations", "ballots", "tallies", "timeline", "members"]) {
      const single = await download(
        server,
        session.seminarId,
        session.tokens.host,
        `format=csv&table=${table}`,
      );
      expect(entry(`${table}.csv`)).toBe(single.text);
    }
    const jsonld = await download(server, session.seminarId, session.tokens.host, "format=jsonld");
    expect(entry("annotations.jsonld")).toBe(jsonld.text);
  });

  it("names downloads after the title, CJK kept in filename* with an ASCII fallback", async () => {
    const result = await download(
      server,
      session.seminarId,
      session.tokens.host,
      "format=csv&table=ballots&anonymized=true",
    );
    const header = result.headers.get("content-disposition")!;
    expect(header).toMatch(/^attachment; filename="?b-b-ballots-anonymized\.csv"?; filename\*=UTF-8''/);
    const parsed = parseDisposition(header);
    expect(parsed.type).toBe("attachment");
    expect(parsed.parameters.filename).toBe("開放模型的啟示：一場讀書會-b-&-b-ballots-anonymized.csv");
    expect(result.headers.get("cache-control")).toBe("no-store");
    const schema = await fetch(`${server.url}/api/transcript.schema.json`);
    expect(schema.headers.get("content-type")).toContain("application/schema+json");
    expect(((await schema.json()) as { $schema: string }).$schema).toBe(
      "https://json-schema.org/draft/2020-12/schema",
    );
  });
});

describe("anonymised", () => {
  it("names nobody in any format, for moderators and participants, with stable pseudonyms and ids", async () => {
    await openToParticipants();
    const realIds = (
      await server.prisma.membership.findMany({
        where: { seminarId: session.seminarId },
        select: { id: true },
      })
    ).map((m) => m.id);
    const { joinCode } = await server.prisma.seminar.findUniqueOrThrow({ where: { id: session.seminarId } });
    for (const token of [session.tokens.host, session.tokens.ada]) {
      for (const query of [
        "format=json",
        "format=md",
        "format=jsonld",
        "format=zip",
        ...["annotations", "ballots", "tallies", "timeline", "members"].map((t) => `format=csv&table=${t}`),
      ]) {
        const result = await download(server, session.seminarId, token, `${query}&anonymized=true`);
        expect(result.status).toBe(200);
        const texts =
          query === "format=zip"
            ? [...(await unzip(result.bytes)).values()].map((b) => b.toString("utf8"))
            : [result.text];
        for (const text of texts) {
          for (const name of Object.values(NAMES)) expect(text, `${query}: ${name}`).not.toContain(name);
          for (const email of session.emails) expect(text).not.toContain(email);
          for (const id of realIds) expect(text, `${query}: a member id`).not.toContain(id);
          expect(text, `${query}: the join code`).not.toContain(joinCode);
          expect(text, `${query}: the join link`).not.toContain("/join/");
        }
      }
      const first = await jsonOf(token, "&anonymized=true");
      const second = await jsonOf(token, "&anonymized=true");
      expect(first.members).toEqual(second.members);
      expect(first.annotations).toEqual(second.annotations);
      expect(first.anonymized).toBe(true);
      expect(first.myBallots).toEqual([]);
      expect(first.members.map((m) => m.displayName)).toEqual([
        "Moderator 1",
        "Moderator 2",
        "Participant 1",
        "Participant 2",
        "Observer 1",
        "Participant 3",
      ]);
      // Pseudonymous ids stand where the member ids stood, consistently.
      const author = first.members.find((m) => m.displayName === "Participant 1")!;
      const highlight = first.annotations.find((a) => a.id === session.annotations.highlight.id)!;
      expect(highlight.authorId).toBe(author.id);
      expect(author.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});
