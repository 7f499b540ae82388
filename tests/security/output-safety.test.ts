/**
 * Output safety in one place: every field a user writes (seminar title, essay, display name,
 * annotation body, tag, reply, prompt question and options, phase label, moderation reason) holds
 * HTML, Markdown and a spreadsheet formula, and every output the server writes keeps them inert:
 * REST JSON (exact text, JSON content type, nosniff), the JSON and JSON-LD transcripts (exact text),
 * Markdown (rendered by a CommonMark renderer with HTML on: no element of ours comes from user
 * text) and every CSV table (no cell starts a formula). The web client's DOM is checked in real
 * Chromium by tests/client/room-behaviour.test.ts (names, bodies, questions and options).
 */
import { randomUUID } from "node:crypto";
import MarkdownIt from "markdown-it";
import { describe, expect, it } from "vitest";
import { TRANSCRIPT_TABLES } from "../../src/protocol/transcripts.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { RoomClient, startTestServer } from "../helpers/server.ts";
import { download, readCsv } from "../helpers/transcripts.ts";

const server = await startTestServer();

/** One hostile payload per field, each with a marker that must survive as text. */
const PAYLOADS = {
  title: '=HYPERLINK("https://evil.example","MARKtitle") <script>alert("x")</script> **b**',
  essayLine: '=SUM(1+1) <script>alert("MARKessay")</script> <img src=x onerror=alert(1)> [l](javascript:x)',
  name: "@MARKname<img src=x onerror=y>",
  body: "+MARKbody|' /C calc'!A0 <iframe src=javascript:alert(1)></iframe> ![i](https://evil.example/i.png)",
  tag: "-markcmd",
  reply: '-MARKreply <a href="javascript:alert(1)">x</a> [y](javascript:alert(1)) <b>b</b>',
  question: "=MARKquestion() <svg onload=alert(1)> # heading",
  optionA: "+MARKoptA <b>yes</b>",
  optionB: "@MARKoptB **no**",
  phase: '=MARKphase <script>alert("phase")</script>',
  reason: "@MARKreason <img src=x onerror=alert(1)> | table |",
};
/** The essay line as a reader sees it: Markdown's own link syntax is read as Markdown. */
const ESSAY_TEXT = '=SUM(1+1) <script>alert("MARKessay")</script> <img src=x onerror=alert(1)> l';
/** What each output must give back exactly: the payloads, with the essay line as imported. */
const { essayLine: _source, ...FIELD_PAYLOADS } = PAYLOADS;
const EXACT = [...Object.values(FIELD_PAYLOADS), ESSAY_TEXT];
const MARKERS = [
  "MARKtitle",
  "MARKessay",
  "MARKname",
  "MARKbody",
  "markcmd",
  "MARKreply",
  "MARKquestion",
  "MARKoptA",
  "MARKoptB",
  "MARKphase",
  "MARKreason",
];
/** Elements user text must never become (ours are h1-h3, p, ul/li, table, em for our own labels). */
const INJECTED = /<(script|img|iframe|svg|a |b>|strong>(?!\w+:)|code|blockquote)/;

/** Every string anywhere in a parsed JSON value. */
function stringsOf(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (typeof value === "string") into.add(value);
  else if (Array.isArray(value)) for (const item of value) stringsOf(item, into);
  else if (value && typeof value === "object") for (const item of Object.values(value)) stringsOf(item, into);
  return into;
}

const { seminar, moderator } = await buildSeminar(server, {
  title: PAYLOADS.title,
  essay: `# A title of ours\n\nAn ordinary first paragraph.\n\n${PAYLOADS.essayLine}\n`,
  prompts: [
    {
      kind: "single_choice",
      question: PAYLOADS.question,
      options: [PAYLOADS.optionA, PAYLOADS.optionB],
      anonymous: false,
    },
  ],
});
const guest = await buildGuest(server, seminar.joinCode!, PAYLOADS.name);
const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
const member = await RoomClient.join(server.url, { token: guest.token });
const paragraphId = member.stream.state!.essay.paragraphs.find((p) => p.text.includes("MARKessay"))!.id;
const root = expectOk(
  await member.send("annotation:create", {
    paragraphId,
    body: PAYLOADS.body,
    tags: [PAYLOADS.tag],
    clientId: randomUUID(),
  }),
);
expectOk(await host.send("annotation:reply", { parentId: root.id, body: PAYLOADS.reply }));
const prompt = host.stream.state!.prompts[0]!;
expectOk(await host.send("prompt:open", { promptId: prompt.id }));
expectOk(
  await member.send("prompt:vote", {
    promptId: prompt.id,
    optionIds: [prompt.options[0]!.id],
    clientBallotId: randomUUID(),
  }),
);
expectOk(await host.send("prompt:close", { promptId: prompt.id }));
expectOk(await host.send("room:phase", { phase: "custom", label: PAYLOADS.phase }));
expectOk(await host.send("room:lock", { reason: PAYLOADS.reason }));
expectOk(await host.send("room:unlock", {}));
host.close();
member.close();

describe("output safety", () => {
  it("returns every payload as exact text in REST JSON, typed application/json with nosniff", async () => {
    for (const [path, token] of [
      [`/api/seminars/${seminar.id}`, moderator.token],
      [`/api/seminars/${seminar.id}/annotations`, guest.token],
      [`/api/seminars/${seminar.id}/prompts`, moderator.token],
      [`/api/seminars/${seminar.id}/moderation-log`, moderator.token],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.headers.get("content-type"), path).toMatch(/^application\/json; charset=utf-8$/);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(response.status, path).toBe(200);
    }
    const snapshot = await server.http("GET", `/api/seminars/${seminar.id}`, undefined, moderator.token);
    const strings = stringsOf(snapshot.body);
    for (const key of [
      "title",
      "name",
      "body",
      "tag",
      "reply",
      "question",
      "optionA",
      "optionB",
      "phase",
      "reason",
    ] as const) {
      expect(strings.has(PAYLOADS[key]), key).toBe(true);
    }
    expect(strings.has(ESSAY_TEXT)).toBe(true);
  });

  it("keeps every payload exact in the JSON and JSON-LD transcripts", async () => {
    const json = await download(server, seminar.id, moderator.token, "format=json");
    expect(json.headers.get("content-type")).toMatch(/^application\/json/);
    const jsonStrings = stringsOf(JSON.parse(json.text));
    for (const value of EXACT) expect(jsonStrings.has(value), value).toBe(true);

    const jsonld = await download(server, seminar.id, moderator.token, "format=jsonld");
    expect(jsonld.headers.get("content-type")).toMatch(/^application\/ld\+json/);
    const ldText = [...stringsOf(JSON.parse(jsonld.text))].join("\n");
    for (const value of [PAYLOADS.body, PAYLOADS.reply, PAYLOADS.tag]) {
      expect(ldText.includes(value), value).toBe(true);
    }
  });

  it("renders the Markdown transcript with no element made from user text, every marker kept as text", async () => {
    for (const query of ["format=md", "format=md&anonymized=true"]) {
      const markdown = await download(server, seminar.id, moderator.token, query);
      const html = new MarkdownIt({ html: true, linkify: true }).render(markdown.text);
      expect(html, query).not.toMatch(INJECTED);
      expect(html, query).not.toMatch(/<[^>]*(href="javascript|onerror=|onload=)/i);
      expect(html.match(/<h1>/g), query).toHaveLength(1);
      const text = html.replace(/<[^>]*>/g, "");
      const expected = query.includes("anonymized")
        ? MARKERS.filter((marker) => marker !== "MARKname")
        : MARKERS;
      for (const marker of expected) expect(text, `${query}: ${marker}`).toContain(marker);
    }
  });

  it("starts no CSV cell with a formula character, in every table", async () => {
    const cells: string[] = [];
    for (const table of TRANSCRIPT_TABLES) {
      const csv = await download(server, seminar.id, moderator.token, `format=csv&table=${table}`);
      expect(csv.status, table).toBe(200);
      for (const row of readCsv(csv.text)) cells.push(...Object.values(row));
    }
    const formulas = cells.filter((cell) => /^[=+\-@\t\r]/.test(cell));
    expect(formulas).toEqual([]);
    // The payloads are there, neutralised with a leading apostrophe.
    for (const key of ["name", "body", "tag", "reply", "question", "optionA", "optionB"] as const) {
      expect(
        cells.some((cell) => cell === `'${PAYLOADS[key]}` || cell.includes(`'${PAYLOADS[key]}`)),
        key,
      ).toBe(true);
    }
  });
});
