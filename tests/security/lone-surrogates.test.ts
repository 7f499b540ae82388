import { describe, expect, it } from "vitest";
import type { Result } from "../../src/protocol/result.ts";
import { buildGuest, buildModerator, buildSeminar, expectOk, TEST_ESSAY } from "../helpers/factories.ts";
import { connect, RoomClient, send, sendRaw, startTestServer } from "../helpers/server.ts";

// A lone surrogate cannot be written as UTF-8. JSON.stringify escapes it ("\ud800"), so it reaches
// the server intact over HTTP and Socket.IO alike; there it must be refused as validation_failed,
// never stored as U+FFFD and never answered `internal`.
const LONE = "\ud800";
const LONE_LOW = "x\udc00y";
const server = await startTestServer();

function expectRefused(result: Result<unknown>, what: string) {
  expect(result.ok, `${what} must be refused`).toBe(false);
  if (!result.ok) expect(result.error.code, what).toBe("validation_failed");
}

/** Nothing anywhere in the database holds U+FFFD, the trace of a lone surrogate stored anyway. */
async function expectNoReplacementCharacterStored() {
  const rows = await server.prisma.$queryRaw<{ n: bigint }[]>`
    SELECT (SELECT count(*) FROM annotations WHERE body LIKE '%' || chr(65533) || '%')
         + (SELECT count(*) FROM memberships WHERE display_name LIKE '%' || chr(65533) || '%')
         + (SELECT count(*) FROM prompts WHERE question LIKE '%' || chr(65533) || '%')
         + (SELECT count(*) FROM prompt_options WHERE label LIKE '%' || chr(65533) || '%')
         + (SELECT count(*) FROM seminars WHERE title LIKE '%' || chr(65533) || '%')
         + (SELECT count(*) FROM accounts WHERE display_name LIKE '%' || chr(65533) || '%') AS n`;
  expect(Number(rows[0]!.n)).toBe(0);
}

describe("lone UTF-16 surrogates are validation_failed at every entry point", () => {
  it("over HTTP: register, login, seminar creation, essay, preview, join, list query", async () => {
    const moderator = await buildModerator(server);
    const { seminar } = await buildSeminar(server, { moderator, start: false });
    const seminarsBefore = await server.prisma.seminar.count();
    const password = "correct horse battery staple";
    const essay = { text: TEST_ESSAY, format: "markdown" };
    const cases: [string, string, unknown, string | undefined][] = [
      [
        "POST",
        "/api/auth/register",
        { email: "a@example.test", password, displayName: `Eve${LONE}` },
        undefined,
      ],
      [
        "POST",
        "/api/auth/register",
        { email: `e${LONE}@example.test`, password, displayName: "Eve" },
        undefined,
      ],
      [
        "POST",
        "/api/auth/register",
        { email: "b@example.test", password: `${password}${LONE}`, displayName: "Eve" },
        undefined,
      ],
      ["POST", "/api/auth/login", { email: `${moderator.email}${LONE}`, password }, undefined],
      ["POST", "/api/auth/login", { email: moderator.email, password: `${password}${LONE}` }, undefined],
      ["POST", "/api/seminars", { title: `T${LONE}`, essay }, moderator.token],
      [
        "POST",
        "/api/seminars",
        { title: "T", essay: { ...essay, text: `${TEST_ESSAY}\n\nEnd ${LONE_LOW}` } },
        moderator.token,
      ],
      ["POST", "/api/seminars", { title: "T", essay: { ...essay, title: `Essay ${LONE}` } }, moderator.token],
      [
        "POST",
        "/api/seminars",
        {
          title: "T",
          essay,
          prompts: [{ kind: "single_choice", question: `Q${LONE}?`, options: ["a", "b"] }],
        },
        moderator.token,
      ],
      [
        "POST",
        "/api/seminars",
        {
          title: "T",
          essay,
          prompts: [{ kind: "single_choice", question: "Q?", options: ["a", `b${LONE}`] }],
        },
        moderator.token,
      ],
      [
        "POST",
        "/api/seminars",
        { title: "T", essay, prompts: [{ kind: "scale", question: "Q?", minLabel: `no${LONE}` }] },
        moderator.token,
      ],
      ["PUT", `/api/seminars/${seminar.id}/essay`, { text: `Replaced ${LONE}` }, moderator.token],
      ["POST", "/api/essays/preview", { text: `Preview ${LONE}` }, moderator.token],
      ["POST", "/api/seminars/join", { code: seminar.joinCode, displayName: `Eve${LONE}` }, undefined],
      ["POST", "/api/seminars/join", { code: `${seminar.joinCode}${LONE}`, displayName: "Eve" }, undefined],
    ];
    for (const [method, path, body, token] of cases) {
      const answer = await server.http(method, path, body, token);
      const what = `${method} ${path} ${JSON.stringify(body).slice(0, 80)}`;
      expect(answer.status, what).toBe(400);
      expectRefused(answer.body, what);
    }
    expectOk(await server.http("POST", `/api/seminars/${seminar.id}/start`, {}, moderator.token));
    const guest = await buildGuest(server, seminar.joinCode!, "Reader");
    // A query string carries UTF-8 bytes: the nearest thing to a lone surrogate is its CESU-8 form.
    for (const query of ["tag=a%ED%A0%80", "cursor=%ED%A0%80"]) {
      const answer = await server.http(
        "GET",
        `/api/seminars/${seminar.id}/annotations?${query}`,
        undefined,
        guest.token,
      );
      expect(answer.status, query).toBe(400);
      expectRefused(answer.body, query);
    }
    expect(await server.prisma.seminar.count()).toBe(seminarsBefore);
    expect(
      await server.prisma.account.count({ where: { email: { in: ["a@example.test", "b@example.test"] } } }),
    ).toBe(0);
    expect(
      await server.prisma.membership.count({ where: { seminarId: seminar.id, role: "participant" } }),
    ).toBe(1);
    await expectNoReplacementCharacterStored();
  });

  it("over Socket.IO: annotations, replies, edits, tags, selectors, prompts, the handshake", async () => {
    const moderator = await buildModerator(server);
    const { seminar } = await buildSeminar(server, { moderator });
    const guest = await buildGuest(server, seminar.joinCode!, "Writer");
    const writer = await RoomClient.join(server.url, { token: guest.token });
    const host = await connect(server.url, { token: moderator.token, seminarId: seminar.id });
    const paragraph = writer.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!;
    const root = expectOk(
      await writer.send("annotation:create", { paragraphId: paragraph.id, body: "fine" }),
    );
    const draft = expectOk(
      await send(host, "prompt:create", {
        kind: "single_choice",
        question: "Q?",
        options: ["a", "b"],
      }),
    );
    const exact = [...paragraph.text].slice(0, 3).join("");
    const commands: [string, unknown][] = [
      ["annotation:create", { paragraphId: paragraph.id, body: LONE }],
      ["annotation:create", { paragraphId: paragraph.id, body: `Hello ${LONE_LOW}` }],
      ["annotation:create", { paragraphId: paragraph.id, body: "ok", tags: [`t${LONE}`] }],
      ["annotation:create", { paragraphId: paragraph.id, body: "ok", clientId: `c${LONE}` }],
      [
        "annotation:create",
        { paragraphId: paragraph.id, body: "ok", selector: { start: 0, end: 3, exact, prefix: LONE } },
      ],
      ["annotation:reply", { parentId: root.id, body: `re ${LONE}` }],
      ["annotation:edit", { annotationId: root.id, body: `edited ${LONE}` }],
      ["annotation:edit", { annotationId: root.id, body: "edited", tags: [LONE_LOW] }],
    ];
    for (const [event, payload] of commands)
      expectRefused(await writer.sendRaw(event, payload), `${event} ${JSON.stringify(payload)}`);
    const prompts: [string, unknown][] = [
      ["prompt:create", { kind: "single_choice", question: `Q${LONE}?`, options: ["a", "b"] }],
      ["prompt:create", { kind: "multiple_choice", question: "Q?", options: ["a", LONE], maxChoices: 1 }],
      [
        "prompt:update",
        { promptId: draft.id, prompt: { kind: "single_choice", question: LONE_LOW, options: ["a", "b"] } },
      ],
    ];
    for (const [event, payload] of prompts)
      expectRefused(await sendRaw(host, event, payload), `${event} ${JSON.stringify(payload)}`);
    const refused = await connect(server.url, { token: `${guest.token}${LONE}` }).then(
      () => undefined,
      (error: Error & { data?: { code: string } }) => error.data?.code,
    );
    expect(refused).toBe("unauthenticated");

    const annotations = await server.prisma.annotation.findMany({ where: { seminarId: seminar.id } });
    expect(annotations.map((annotation) => [annotation.body, annotation.version])).toEqual([["fine", 1]]);
    const stored = await server.prisma.prompt.findMany({
      where: { seminarId: seminar.id },
      include: { options: true },
    });
    expect(stored.map((prompt) => [prompt.question, prompt.options.map((option) => option.label)])).toEqual([
      ["Q?", ["a", "b"]],
    ]);
    await expectNoReplacementCharacterStored();
    writer.close();
    host.close();
  });
});
