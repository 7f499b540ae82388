import { randomBytes } from "node:crypto";
import type { PromptCreateInput } from "../../src/protocol/prompts.ts";
import type { Result } from "../../src/protocol/result.ts";
import type { MemberView, SeminarView } from "../../src/protocol/views.ts";
import type { TestServer } from "./server.ts";

/** What the HTTP factories need of a server: an in-process TestServer or a server process. */
export type HttpApi = Pick<TestServer, "http">;

/** Unwraps an ok result or fails the test with the error. */
export function expectOk<T>(result: { status?: number; body?: Result<T> } | Result<T>): T {
  const body = "body" in result && result.body ? result.body : (result as Result<T>);
  if (!body.ok) throw new Error(`expected ok, got ${body.error.code}: ${body.error.message}`);
  return body.data;
}

/** A short essay of our own for tests: a title, two headings and four paragraphs. */
export const TEST_ESSAY = [
  "# Reading Together",
  "",
  "## One",
  "",
  "A seminar is a room where people read the same text and disagree about it politely.",
  "",
  "Marking a passage makes a thought visible to everyone else in the room.",
  "",
  "## Two",
  "",
  "開放的模型讓更多人參與研究，這是一個值得討論的問題。",
  "",
  "Emoji 😀 and rare characters 𠮷 count as one code point each.",
].join("\n");

/** Registers a moderator and returns their token. */
export async function buildModerator(
  server: HttpApi,
  overrides: { email?: string; displayName?: string } = {},
) {
  const email = overrides.email ?? `mod-${randomBytes(4).toString("hex")}@example.test`;
  const data = expectOk(
    await server.http<{ token: string; account: { id: string } }>("POST", "/api/auth/register", {
      email,
      password: "correct horse battery staple",
      displayName: overrides.displayName ?? "Moderator",
    }),
  );
  return { token: data.token, accountId: data.account.id, email };
}

/** Creates a seminar (draft unless `start`), owned by a new moderator unless one is given. */
export async function buildSeminar(
  server: HttpApi,
  overrides: {
    moderator?: { token: string };
    title?: string;
    essay?: string;
    prompts?: unknown[];
    start?: boolean;
  } = {},
) {
  const moderator = overrides.moderator ?? (await buildModerator(server));
  const seminar = expectOk(
    await server.http<SeminarView>(
      "POST",
      "/api/seminars",
      {
        title: overrides.title ?? "Test seminar",
        essay: { text: overrides.essay ?? TEST_ESSAY, format: "markdown" },
        prompts: overrides.prompts ?? [],
      },
      moderator.token,
    ),
  );
  if (overrides.start ?? true)
    expectOk(await server.http("POST", `/api/seminars/${seminar.id}/start`, {}, moderator.token));
  return { seminar, moderator };
}

/** What joining by code (and resuming) answers. */
export interface GuestSession {
  token: string;
  expiresAt: string;
  member: MemberView;
  seminar: SeminarView;
  /** Only in the join answer. */
  resumeSecret: string;
}

/** Joins a seminar by code as a guest; returns the guest token, member and resume secret. */
export async function buildGuest(
  server: HttpApi,
  joinCode: string,
  displayName = "Guest",
  asObserver = false,
) {
  return expectOk(
    await server.http<GuestSession>("POST", "/api/seminars/join", {
      code: joinCode,
      displayName,
      asObserver,
    }),
  );
}

/** A new moderator account made co-moderator of a seminar (as the host would with member:role). */
export async function buildCoModerator(server: TestServer, seminarId: string, displayName = "Co") {
  const account = await buildModerator(server, { displayName });
  const member = await server.prisma.membership.create({
    data: { seminarId, accountId: account.accountId, role: "co_moderator", displayName },
  });
  return { ...account, memberId: member.id };
}

/** The seminar's question as a single-choice prompt (anonymous, live results), for tests that vote. */
export const YES_NO: PromptCreateInput = {
  kind: "single_choice",
  question: "Should DeepSeek be a national team?",
  options: ["Yes", "No"],
  anonymous: true,
  resultsVisibility: "live",
};
