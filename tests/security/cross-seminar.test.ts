/**
 * Reads across seminars: every REST route that takes a seminar id, called with the genuine tokens
 * of another seminar's moderator and participant, answers not_found (outside your seminar is
 * not_found, not forbidden) and nothing of the seminar; and a member of seminar A who puts seminar
 * B's annotation, prompt, paragraph or member ids under A's path learns nothing of B.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TRANSCRIPT_FORMATS } from "../../src/protocol/transcripts.ts";
import { buildGuest, buildSeminar, expectOk, YES_NO } from "../helpers/factories.ts";
import { RoomClient, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

/** A live seminar with a guest, a visible annotation (with a marker in its body) and a prompt. */
async function buildRoom(name: string) {
  const { seminar, moderator } = await buildSeminar(server, { title: `Seminar ${name}`, prompts: [YES_NO] });
  const guest = await buildGuest(server, seminar.joinCode!, `Guest ${name}`);
  const client = await RoomClient.join(server.url, { token: guest.token });
  const paragraphId = client.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;
  const annotation = expectOk(
    await client.send("annotation:create", { paragraphId, body: `secret-of-${name}`, clientId: `n-${name}` }),
  );
  client.close();
  const promptId = client.stream.state!.prompts[0]!.id;
  return { seminar, moderator, guest, paragraphId, annotationId: annotation.id, promptId };
}

const a = await buildRoom("A");
const b = await buildRoom("B");

/** Every route that takes a seminar id, on seminar A, with valid ids of A where it needs more. */
const routesOfA = (): [string, string, unknown?][] => [
  ["GET", `/api/seminars/${a.seminar.id}`],
  [
    "PUT",
    `/api/seminars/${a.seminar.id}/essay`,
    { text: "# Taken over\n\nA new essay.", format: "markdown" },
  ],
  ["PATCH", `/api/seminars/${a.seminar.id}/settings`, { transcriptAccess: true }],
  ["POST", `/api/seminars/${a.seminar.id}/start`, {}],
  ["POST", `/api/seminars/${a.seminar.id}/end`, {}],
  ["GET", `/api/seminars/${a.seminar.id}/annotations`],
  ["GET", `/api/seminars/${a.seminar.id}/annotations/${a.annotationId}/history`],
  ["GET", `/api/seminars/${a.seminar.id}/prompts`],
  ["GET", `/api/seminars/${a.seminar.id}/prompts/${a.promptId}`],
  ["GET", `/api/seminars/${a.seminar.id}/prompts/${a.promptId}/history`],
  ["GET", `/api/seminars/${a.seminar.id}/moderation-log`],
  ...TRANSCRIPT_FORMATS.map((format): [string, string] => [
    "GET",
    `/api/seminars/${a.seminar.id}/transcript?format=${format}`,
  ]),
  ["GET", `/api/seminars/${a.seminar.id}/transcript?format=md&anonymized=true`],
];

/** What must not change in seminar A. */
async function footprintOfA() {
  const seminar = await server.db.prisma.seminar.findUniqueOrThrow({
    where: { id: a.seminar.id },
    select: {
      state: true,
      lastSeq: true,
      transcriptAccess: true,
      essay: { select: { title: true, sourceText: true } },
    },
  });
  return seminar;
}

describe("cross-seminar reads", () => {
  it("answers not_found to another seminar's moderator and participant on every route of a seminar", async () => {
    const before = await footprintOfA();
    const outsiders = { "moderator of B": b.moderator.token, "participant of B": b.guest.token };
    const answers: Record<string, string> = {};
    for (const [who, token] of Object.entries(outsiders)) {
      for (const [method, path, body] of routesOfA()) {
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        answers[`${who} ${method} ${path}`] = `${response.status} ${JSON.parse(text).error?.code}`;
        // Nothing of A in the answer: not its title, annotation, guest or ids beyond the path's.
        expect(text).not.toMatch(/Seminar A|secret-of-A|Guest A/);
      }
    }
    const expected = Object.fromEntries(Object.keys(answers).map((key) => [key, "404 not_found"]));
    expect(answers).toEqual(expected);
    expect(await footprintOfA()).toEqual(before);
  });

  it("finds nothing of seminar B when A's members put B's ids under A's path", async () => {
    const before = await footprintOfA();
    for (const token of [a.moderator.token, a.guest.token]) {
      // B's ids are answered exactly as ids that exist nowhere: not_found, or forbidden for a
      // participant on a moderators' route whatever the id (no oracle either way).
      const nowhere = randomUUID();
      for (const [path, participantCode] of [
        [`annotations/${b.annotationId}/history`, "not_found"],
        [`prompts/${b.promptId}`, "not_found"],
        [`prompts/${b.promptId}/history`, "forbidden"],
      ] as const) {
        const answer = await server.http("GET", `/api/seminars/${a.seminar.id}/${path}`, undefined, token);
        const code = token === a.moderator.token ? "not_found" : participantCode;
        expect(answer.body, path).toMatchObject({ ok: false, error: { code } });
        const unknown = await server.http(
          "GET",
          `/api/seminars/${a.seminar.id}/${path.replace(/[0-9a-f-]{36}/, nowhere)}`,
          undefined,
          token,
        );
        expect(unknown.status, path).toBe(answer.status);
        expect(unknown.body.ok ? "" : unknown.body.error.message).toBe(
          answer.body.ok ? "" : answer.body.error.message,
        );
        expect(JSON.stringify(answer.body)).not.toMatch(/secret-of-B|Seminar B|Guest B/);
      }
      for (const query of [
        `paragraphId=${b.paragraphId}`,
        `authorId=${b.guest.member.id}`,
        `paragraphId=${b.paragraphId}&authorId=${b.guest.member.id}`,
      ]) {
        const page = expectOk(
          await server.http<{ items: unknown[] }>(
            "GET",
            `/api/seminars/${a.seminar.id}/annotations?${query}`,
            undefined,
            token,
          ),
        );
        expect(page.items, query).toEqual([]);
      }
      // A's own list holds A's annotation only.
      const own = expectOk(
        await server.http<{ items: { body: string }[] }>(
          "GET",
          `/api/seminars/${a.seminar.id}/annotations`,
          undefined,
          token,
        ),
      );
      expect(own.items.map((item) => item.body)).toEqual(["secret-of-A"]);
      const transcript = await fetch(`${server.url}/api/seminars/${a.seminar.id}/transcript?format=md`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const text = await transcript.text();
      // Moderators download; a participant may not while transcriptAccess is off (the default).
      expect(transcript.status).toBe(token === a.moderator.token ? 200 : 403);
      expect(text).toContain(token === a.moderator.token ? "secret-of-A" : "forbidden");
      expect(text).not.toMatch(/secret-of-B|Seminar B|Guest B/);
    }
    expect(await footprintOfA()).toEqual(before);
  });
});
