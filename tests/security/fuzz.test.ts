import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  COMMAND_INPUTS,
  type CommandName,
  type CommandPayload,
  isCommandName,
} from "../../src/protocol/commands.ts";
import { ERROR_CODES, HTTP_STATUS, type Result } from "../../src/protocol/result.ts";
import type { SyncView } from "../../src/protocol/views.ts";
import { buildGuest, buildModerator, buildSeminar, expectOk } from "../helpers/factories.ts";
import {
  type ClientSocket,
  connect,
  send,
  sendRaw,
  startTestServer,
  type TestServer,
} from "../helpers/server.ts";

// Property-based fuzzing of every command of the registry and of the REST routes a stranger can
// reach. Bounded in CI (FUZZ_RUNS per command and role, 30 by default); `FUZZ_RUNS=5000` for a
// long run. Every answer must be the envelope with a typed code and never `internal`, the server
// must stay up, and what was stored must still satisfy the database's invariants.

const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
/** Commands fuzzed at once (each in a seminar of its own). */
const CONCURRENCY = 4;
/** Socket.IO refuses messages over LIMITS.maxSocketMessageBytes by closing the socket: stay below. */
const MAX_STRING = 6_000;

const server = await startTestServer();
const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** Ids of rows that exist in some seminar: fuzzed payloads point at them to cross seminar lines. */
interface Fixtures {
  seminarId: string;
  paragraphId: string;
  annotationId: string;
  draftPromptId: string;
  openPromptId: string;
  optionId: string;
  /** A participant the moderator's member commands aim at (not the fuzzing participant). */
  bystanderId: string;
}

/** A valid payload of every command: the seed that mutations start from. A new command must add one. */
const VALID: { [E in CommandName]: (f: Fixtures) => CommandPayload<E> } = {
  "room:sync": () => ({ since: 0 }),
  "presence:focus": (f) => ({ paragraphId: f.paragraphId }),
  "auth:refresh": () => ({}),
  "seminar:start": () => ({}),
  "seminar:end": () => ({}),
  "annotation:create": (f) => ({ paragraphId: f.paragraphId, body: "A fuzzed note", clientId: "fuzz-1" }),
  "annotation:reply": (f) => ({ parentId: f.annotationId, body: "A reply" }),
  "annotation:edit": (f) => ({ annotationId: f.annotationId, body: "Edited", tags: ["t"] }),
  "annotation:delete": (f) => ({ annotationId: f.annotationId }),
  "annotation:react": (f) => ({ annotationId: f.annotationId, kind: "agree" }),
  "annotation:hide": (f) => ({ annotationId: f.annotationId, reason: "off topic" }),
  "annotation:restore": (f) => ({ annotationId: f.annotationId }),
  "annotation:pin": (f) => ({ annotationId: f.annotationId }),
  "annotation:unpin": (f) => ({ annotationId: f.annotationId }),
  "annotation:remove": (f) => ({ annotationId: f.annotationId, reason: "spam" }),
  "prompt:create": () => ({ kind: "single_choice", question: "Which?", options: ["a", "b"] }),
  "prompt:update": (f) => ({
    promptId: f.draftPromptId,
    prompt: { kind: "multiple_choice", question: "Which ones?", options: ["a", "b", "c"], maxChoices: 2 },
  }),
  "prompt:delete": (f) => ({ promptId: f.draftPromptId }),
  "prompt:open": (f) => ({ promptId: f.draftPromptId }),
  "prompt:close": (f) => ({ promptId: f.openPromptId }),
  "prompt:reopen": (f) => ({ promptId: f.openPromptId }),
  "prompt:reveal": (f) => ({ promptId: f.openPromptId }),
  "prompt:vote": (f) => ({ promptId: f.openPromptId, optionIds: [f.optionId], clientBallotId: randomUUID() }),
  "member:mute": (f) => ({ memberId: f.bystanderId, durationSeconds: 60 }),
  "member:unmute": (f) => ({ memberId: f.bystanderId }),
  "member:kick": (f) => ({ memberId: f.bystanderId }),
  "member:ban": (f) => ({ memberId: f.bystanderId, reason: "fuzz" }),
  "member:unban": (f) => ({ memberId: f.bystanderId }),
  "member:role": (f) => ({ memberId: f.bystanderId, role: "observer" }),
  "room:lock": () => ({}),
  "room:unlock": () => ({ reason: "open again" }),
  "room:slow_mode": () => ({ seconds: 0 }),
  "room:spotlight": (f) => ({ paragraphId: f.paragraphId, start: 0, end: 1 }),
  "room:phase": () => ({ phase: "reading", durationSeconds: 60 }),
  "queue:raise": () => ({}),
  "queue:lower": (f) => ({ memberId: f.bystanderId }),
  "queue:call": () => ({}),
  "queue:clear": () => ({}),
};

// ---------------------------------------------------------------------------------------------
// Arbitraries

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
/** Strings mixing lone surrogates, control characters, bidi overrides and ordinary text. */
const nastyString = fc.oneof(
  fc.string({ unit: fc.oneof(loneSurrogate, fc.string({ unit: "binary", maxLength: 1 })), maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.constantFrom("\u202e", "\u0000", "<script>alert(1)</script>", "{{7*7}}", "'; DROP TABLE annotations;--"),
  fc.integer({ min: 3_990, max: MAX_STRING }).map((length) => "x".repeat(length)),
);
const hugeNumber = fc.oneof(
  fc.double(),
  fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }).map(Number),
  fc.constantFrom(
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 31,
    -(2 ** 31) - 1,
    1e308,
    -1e308,
    Number.MIN_VALUE,
    -0,
    0.5,
  ),
);
/** An array nested `depth` deep: `[[[…]]]`. */
const nestedArray = fc.integer({ min: 1, max: 2_000 }).map((depth) => {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
});

/** Values to put where a valid payload has something else (ids of other seminars among them). */
function nastyValue(foreign: Fixtures) {
  return fc.oneof(
    fc.anything({ maxDepth: 3 }),
    nastyString,
    hugeNumber,
    nestedArray,
    fc.uuid(),
    fc.constantFrom<unknown>(
      null,
      true,
      "",
      [],
      {},
      "00000000-0000-0000-0000-000000000000",
      foreign.paragraphId,
      foreign.annotationId,
      foreign.openPromptId,
      foreign.optionId,
      foreign.bystanderId,
      foreign.seminarId,
    ),
  );
}

/** Every path (object keys, array indexes) in `value` down to a depth of 8, the root included. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const paths = [prefix];
  if (prefix.length >= 8 || value === null || typeof value !== "object") return paths;
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? [...value.entries()]
    : Object.entries(value);
  for (const [key, item] of entries) paths.push(...pathsOf(item, [...prefix, key]));
  return paths;
}

/** Sets an own property (also for `__proto__`, which plain assignment would treat as the prototype). */
function setOwn(target: object, key: string | number, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

type Mutation = { kind: "replace" | "delete" | "add"; at: number; key: string; value: unknown };

/** Applies one mutation to a payload, copying only the containers on the mutated path. */
function mutate(payload: unknown, mutation: Mutation): unknown {
  const paths = pathsOf(payload);
  const path = paths[mutation.at % paths.length]!;
  if (path.length === 0) return mutation.kind === "replace" ? mutation.value : payload;
  const copyOf = (value: unknown) =>
    (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  const root = copyOf(payload);
  let parent = root;
  for (const step of path.slice(0, -1)) {
    const child = copyOf(parent[step]);
    setOwn(parent, step, child);
    parent = child;
  }
  const last = path.at(-1)!;
  if (mutation.kind === "replace") setOwn(parent, last, mutation.value);
  else if (mutation.kind === "delete") delete parent[last];
  else if (!Array.isArray(parent)) setOwn(parent, mutation.key, mutation.value);
  return root;
}

/** Arbitrary payloads for a command: anything at all, objects, and mutations of a valid payload. */
function payloads(valid: () => unknown, foreign: Fixtures) {
  const mutation = fc.record({
    kind: fc.constantFrom<Mutation["kind"]>("replace", "delete", "add"),
    at: fc.nat(),
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("__proto__", "constructor", "prototype")),
    value: nastyValue(foreign),
  });
  return fc.oneof(
    { weight: 2, arbitrary: fc.anything({ maxDepth: 4 }) },
    { weight: 2, arbitrary: fc.object({ maxDepth: 3 }) },
    { weight: 1, arbitrary: nastyString },
    { weight: 1, arbitrary: hugeNumber },
    { weight: 1, arbitrary: nestedArray },
    {
      weight: 6,
      arbitrary: fc
        .array(mutation, { minLength: 1, maxLength: 3 })
        .map((list) => list.reduce(mutate, valid())),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Checking answers

/** Fails unless `answer` is the envelope: ok with data, or an error with a typed code other than internal. */
function expectEnvelope(answer: unknown, what: string): asserts answer is Result<unknown> {
  expect(answer, what).toBeTypeOf("object");
  const body = answer as Record<string, unknown>;
  if (body.ok === true) {
    expect(Object.hasOwn(body, "data"), `${what}: ok without data`).toBe(true);
    return;
  }
  expect(body.ok, what).toBe(false);
  const error = body.error as { code?: unknown; message?: unknown };
  expect(KNOWN_CODES.has(String(error?.code)), `${what}: code ${String(error?.code)}`).toBe(true);
  expect(error.code, `${what}: ${String(error.message)}`).not.toBe("internal");
  expect(error.message, what).toBeTypeOf("string");
}

/** A connected socket of one role in one seminar, reopened if the server closed it. */
class Actor {
  constructor(
    private socket: ClientSocket,
    private readonly reopen: () => Promise<ClientSocket>,
  ) {}

  /** Sends a raw payload; a rate_limited answer is waited out as the server says and sent again. */
  async send(event: string, payload: unknown): Promise<unknown> {
    for (;;) {
      if (!this.socket.connected) this.socket = await this.reopen();
      const answer: unknown = await sendRaw(this.socket, event, payload).catch((error: Error) => {
        // Only a connection the server closed (a documented reason, e.g. the room ended) goes unanswered.
        if (this.socket.connected) throw error;
        return undefined;
      });
      if (answer === undefined) return "closed";
      expectEnvelope(answer, `${event} ${preview(payload)}`);
      const error = answer.ok ? undefined : answer.error;
      if (error?.code !== "rate_limited") return answer;
      const retryAfterMs = (error.details as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 100;
      await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfterMs, 2_000)));
    }
  }

  close() {
    this.socket.close();
  }
}

function preview(payload: unknown): string {
  try {
    return (JSON.stringify(payload) ?? String(payload)).slice(0, 160);
  } catch {
    return String(payload).slice(0, 160);
  }
}

// ---------------------------------------------------------------------------------------------
// Rooms to fuzz in

const host = await buildModerator(server, { displayName: "Fuzz host" });

/** A live seminar with a participant (the fuzzing one), a bystander, an annotation and prompts. */
async function buildRoom(server: TestServer) {
  const { seminar } = await buildSeminar(server, {
    moderator: host,
    prompts: [{ kind: "single_choice", question: "Open one?", options: ["yes", "no"] }],
  });
  const guest = await buildGuest(server, seminar.joinCode!, "Fuzzer");
  const bystander = await buildGuest(server, seminar.joinCode!, "Bystander");
  const moderatorSocket = await connect(server.url, { token: host.token, seminarId: seminar.id });
  const participantSocket = await connect(server.url, { token: guest.token });
  const sync = expectOk(await send(moderatorSocket, "room:sync", {}));
  if (sync.mode !== "snapshot") throw new Error("expected a snapshot");
  const paragraph = sync.snapshot.essay.paragraphs.find((p) => p.kind === "paragraph")!;
  const open = sync.snapshot.prompts[0]!;
  expectOk(await send(moderatorSocket, "prompt:open", { promptId: open.id }));
  const draft = expectOk(
    await send(moderatorSocket, "prompt:create", { kind: "scale", question: "How much?", min: 1, max: 5 }),
  );
  const annotation = expectOk(
    await send(participantSocket, "annotation:create", { paragraphId: paragraph.id, body: "First" }),
  );
  const fixtures: Fixtures = {
    seminarId: seminar.id,
    paragraphId: paragraph.id,
    annotationId: annotation.id,
    draftPromptId: draft.id,
    openPromptId: open.id,
    optionId: open.options[0]!.id,
    bystanderId: bystander.member.id,
  };
  const participant = new Actor(participantSocket, () => connect(server.url, { token: guest.token }));
  const moderator = new Actor(moderatorSocket, () =>
    connect(server.url, { token: host.token, seminarId: seminar.id }),
  );
  return { fixtures, participant, moderator };
}

/** Runs `work` over `items`, `limit` at a time. */
async function inPool<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

async function expectAlive() {
  const response = await fetch(`${server.url}/healthz`);
  expect(response.status).toBe(200);
}

// ---------------------------------------------------------------------------------------------
// Database invariants

async function expectInvariants() {
  const db = server.prisma;
  // Every seminar's log is exactly 1..last_seq: no gap, no duplicate, nothing past last_seq.
  const logs = await db.$queryRaw<
    { id: string; last_seq: number; n: number; lo: number | null; hi: number | null }[]
  >`
    SELECT s.id::text AS id, s.last_seq, count(e.seq)::int AS n, min(e.seq) AS lo, max(e.seq) AS hi
    FROM seminars s LEFT JOIN room_events e ON e.seminar_id = s.id GROUP BY s.id`;
  for (const log of logs) {
    expect(log.n, `seminar ${log.id} events`).toBe(log.last_seq);
    if (log.n > 0) expect([log.lo, log.hi], `seminar ${log.id} seq range`).toEqual([1, log.last_seq]);
  }
  const broken = await db.$queryRaw<{ what: string; n: number }[]>`
    SELECT 'choice of another prompt' AS what, count(*)::int AS n
      FROM ballot_choices bc JOIN ballots b ON b.id = bc.ballot_id JOIN prompt_options o ON o.id = bc.option_id
      WHERE o.prompt_id <> b.prompt_id
    UNION ALL SELECT 'ballot without choices', count(*)::int
      FROM ballots b WHERE NOT EXISTS (SELECT 1 FROM ballot_choices bc WHERE bc.ballot_id = b.id)
    UNION ALL SELECT 'too many choices', count(*)::int FROM (
      SELECT b.id FROM ballots b JOIN prompts p ON p.id = b.prompt_id JOIN ballot_choices bc ON bc.ballot_id = b.id
      GROUP BY b.id, p.kind, p.max_choices
      HAVING count(*) > CASE WHEN p.kind = 'multiple_choice' THEN p.max_choices ELSE 1 END) t
    UNION ALL SELECT 'ballot by a member of another seminar', count(*)::int
      FROM ballots b JOIN prompts p ON p.id = b.prompt_id JOIN memberships m ON m.id = b.member_id
      WHERE m.seminar_id <> p.seminar_id
    UNION ALL SELECT 'annotation on another seminar''s essay', count(*)::int
      FROM annotations a JOIN paragraphs pa ON pa.id = a.paragraph_id JOIN essays e ON e.id = pa.essay_id
      WHERE e.seminar_id <> a.seminar_id
    UNION ALL SELECT 'annotation by a member of another seminar', count(*)::int
      FROM annotations a JOIN memberships m ON m.id = a.author_id WHERE m.seminar_id <> a.seminar_id
    UNION ALL SELECT 'reply to another seminar', count(*)::int
      FROM annotations a JOIN annotations parent ON parent.id = a.parent_id WHERE parent.seminar_id <> a.seminar_id
    UNION ALL SELECT 'annotation without its created event', count(*)::int
      FROM annotations a WHERE (SELECT count(*) FROM room_events e WHERE e.seminar_id = a.seminar_id
        AND e.type = 'annotation:created' AND e.data->>'annotationId' = a.id::text) <> 1
    UNION ALL SELECT 'created event without its annotation', count(*)::int
      FROM room_events e WHERE e.type = 'annotation:created'
        AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.id::text = e.data->>'annotationId')`;
  expect(broken.filter((row) => row.n > 0)).toEqual([]);
  // Tallies equal ballots: the stored tally at the current version (the sum of revisions) counts
  // exactly the stored choices per option.
  const prompts = await db.prompt.findMany({
    select: {
      id: true,
      options: { select: { id: true } },
      ballots: { select: { revision: true, choices: true } },
    },
  });
  const snapshots = await db.tallySnapshot.findMany({
    select: { promptId: true, version: true, counts: true, ballots: true },
  });
  let compared = 0;
  for (const prompt of prompts) {
    const version = prompt.ballots.reduce((sum, ballot) => sum + ballot.revision, 0);
    const counts = Object.fromEntries(prompt.options.map((option) => [option.id, 0]));
    for (const ballot of prompt.ballots) for (const choice of ballot.choices) counts[choice.optionId]! += 1;
    const stored = snapshots.find((s) => s.promptId === prompt.id && s.version === version);
    if (stored && version > 0) {
      compared++;
      expect(stored.counts, `tally of ${prompt.id} at version ${version}`).toEqual(counts);
      expect(stored.ballots).toBe(prompt.ballots.length);
    }
  }
  return { seminars: logs.length, talliesCompared: compared };
}

/** A fresh snapshot's tallies count exactly the stored choices of each prompt. */
async function expectServedTalliesMatchBallots(moderator: Actor) {
  const answer = (await moderator.send("room:sync", {})) as Result<SyncView>;
  if (!answer.ok || answer.data.mode !== "snapshot") throw new Error("expected a snapshot");
  for (const tally of answer.data.snapshot.tallies) {
    const rows = await server.prisma.$queryRaw<{ option_id: string; n: number }[]>`
      SELECT o.id::text AS option_id, count(bc.ballot_id)::int AS n
      FROM prompt_options o LEFT JOIN ballot_choices bc ON bc.option_id = o.id
      WHERE o.prompt_id = ${tally.promptId}::uuid GROUP BY o.id`;
    expect(tally.counts, `served tally of ${tally.promptId}`).toEqual(
      Object.fromEntries(rows.map((row) => [row.option_id, row.n])),
    );
  }
}

// ---------------------------------------------------------------------------------------------

describe(`fuzzing every command and the public routes (${RUNS} runs each)`, () => {
  const foreignRoom = buildRoom(server);

  it(
    "answers every command, from a participant and a moderator, in the envelope; never internal",
    async () => {
      const foreign = (await foreignRoom).fixtures;
      const names = Object.keys(COMMAND_INPUTS).filter(isCommandName);
      expect(names.length).toBeGreaterThan(30);
      const answered = new Map<string, number>();
      await inPool(names, CONCURRENCY, async (name) => {
        const room = await buildRoom(server);
        const valid = () => VALID[name](room.fixtures);
        expect(COMMAND_INPUTS[name].safeParse(valid()).success, `the valid ${name} payload parses`).toBe(
          true,
        );
        await fc.assert(
          fc.asyncProperty(payloads(valid, foreign), async (payload) => {
            for (const actor of [room.participant, room.moderator]) {
              const answer = await actor.send(name, payload);
              const key =
                answer === "closed"
                  ? "closed"
                  : (answer as Result<unknown>).ok
                    ? "ok"
                    : (answer as { error: { code: string } }).error.code;
              answered.set(key, (answered.get(key) ?? 0) + 1);
            }
          }),
          { numRuns: RUNS },
        );
        await expectServedTalliesMatchBallots(room.moderator);
        room.participant.close();
        room.moderator.close();
        await expectAlive();
      });
      // An unknown command name is answered too.
      const { participant } = await foreignRoom;
      const unknown = await participant.send("admin:drop_tables", {});
      expect(unknown).toMatchObject({ ok: false, error: { code: "not_found" } });
      expect(answered.get("internal")).toBeUndefined();
      // The fuzzing reached the handlers (some payloads were accepted), not only the schemas.
      expect(answered.get("ok") ?? 0).toBeGreaterThan(0);
      expect(answered.get("validation_failed") ?? 0).toBeGreaterThan(0);
      await expectAlive();
      const checked = await expectInvariants();
      expect(checked.seminars).toBeGreaterThan(names.length);
      console.info("fuzz: socket answers", Object.fromEntries(answered), checked);
    },
    60_000 + RUNS * 4_000,
  );

  it(
    "answers random bodies and queries on the public routes in the envelope; never internal",
    async () => {
      const { fixtures } = await foreignRoom;
      const seminar = await server.prisma.seminar.findUniqueOrThrow({ where: { id: fixtures.seminarId } });
      const creator = await buildModerator(server, { displayName: "Fuzz creator" });
      const guest = await buildGuest(server, seminar.joinCode, "Lister");
      const statuses = new Map<number, number>();

      async function call(method: string, path: string, body: unknown, token?: string) {
        // Bodies that JSON cannot carry are sent as the raw text they would be.
        const raw = typeof body === "string" ? body : (JSON.stringify(body) ?? "null");
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers: {
            "content-type": "application/json",
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: method === "GET" ? undefined : raw,
        });
        const text = await response.text();
        let parsed: unknown;
        expect(
          () => (parsed = JSON.parse(text)),
          `${method} ${path}: not JSON: ${text.slice(0, 80)}`,
        ).not.toThrow();
        expectEnvelope(parsed, `${method} ${path} ${preview(body)}`);
        if (!(parsed as Result<unknown>).ok)
          expect(response.status).toBe(
            HTTP_STATUS[(parsed as { error: { code: keyof typeof HTTP_STATUS } }).error.code],
          );
        else expect(response.status).toBeLessThan(300);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }

      const essay = { text: "# T\n\nOne paragraph of text.", format: "markdown" };
      const routes: { method: string; path: string; token?: string; valid: () => unknown }[] = [
        {
          method: "POST",
          path: "/api/seminars/join",
          valid: () => ({ code: seminar.joinCode, displayName: `R${randomUUID().slice(0, 8)}` }),
        },
        {
          method: "POST",
          path: "/api/auth/login",
          valid: () => ({ email: host.email, password: "correct horse battery staple" }),
        },
        {
          method: "POST",
          path: "/api/auth/register",
          valid: () => ({
            email: `f${randomUUID().slice(0, 8)}@example.test`,
            password: "correct horse battery staple",
            displayName: "F",
          }),
        },
        {
          method: "POST",
          path: "/api/seminars",
          token: creator.token,
          valid: () => ({
            title: "Fuzzed",
            essay,
            prompts: [{ kind: "scale", question: "Q?", min: 1, max: 3 }],
          }),
        },
      ];
      for (const route of routes) {
        await fc.assert(
          fc.asyncProperty(fc.oneof(payloads(route.valid, fixtures), fc.string({ maxLength: 200 })), (body) =>
            call(route.method, route.path, body, route.token),
          ),
          { numRuns: RUNS },
        );
      }
      // Random queries on the annotation list: known keys with nasty values, unknown keys, raw escapes.
      const queryPart = fc.oneof(
        fc
          .tuple(
            fc.constantFrom("tag", "cursor", "limit", "paragraphId", "author", "order", "hidden"),
            fc.oneof(nastyString, hugeNumber.map(String), fc.uuid()),
          )
          .map(([key, value]) => `${key}=${encodeURIComponent(value.replace(/[\ud800-\udfff]/g, "x"))}`),
        fc
          .string({ maxLength: 20 })
          .map((key) => `${encodeURIComponent(key.replace(/[\ud800-\udfff]/g, "x"))}=1`),
        fc
          .uint8Array({ maxLength: 12 })
          .map((bytes) => `tag=${[...bytes].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("")}`),
        fc.constantFrom("tag=%", "limit[]=1&limit[]=2", "cursor[a]=b", "limit=1e400", "%zz=1"),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(queryPart, { maxLength: 4 }), (parts) =>
          call(
            "GET",
            `/api/seminars/${fixtures.seminarId}/annotations?${parts.join("&")}`,
            undefined,
            guest.token,
          ),
        ),
        { numRuns: RUNS * 2 },
      );
      await expectAlive();
      await expectInvariants();
      console.info("fuzz: HTTP statuses", Object.fromEntries(statuses));
      expect(statuses.get(500)).toBeUndefined();
    },
    60_000 + RUNS * 3_000,
  );
});
