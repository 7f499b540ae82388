import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { Application } from "../app.ts";
import { registerAccount } from "../modules/accounts/accounts.service.ts";
import { promptDeps } from "../modules/prompts/prompts.handlers.ts";
import { changePromptState } from "../modules/prompts/prompts.service.ts";
import { joinUrl } from "../modules/seminars/seminars.presenter.ts";
import { createSeminar, startSession } from "../modules/seminars/seminars.service.ts";

/** What the demo seed leaves behind: how to reach it. */
export interface DemoInfo {
  email: string;
  password: string;
  joinCode: string;
  joinUrl: string;
  seminarId: string;
}

const DEMO_EMAIL = "demo@stepstone.local";
const CREDENTIALS_FILE = "demo-credentials.json";

/**
 * Seeds the demo seminar once: a moderator account with a random password (kept in
 * `<dataDir>/demo-credentials.json`, readable only by the owner), our own demo essay and two
 * prompts; the session is live and the first prompt open, so a guest who joins with the printed
 * code can annotate and vote at once. On later starts it reads the same file and seeds nothing.
 */
export async function seedDemo(application: Application): Promise<DemoInfo> {
  const { context, realtime } = application;
  const file = join(context.config.dataDir, CREDENTIALS_FILE);
  const existing = await context.prisma.account.findUnique({ where: { email: DEMO_EMAIL } });
  if (existing) {
    const saved = await readSaved(file);
    const seminar = await context.prisma.seminar.findFirst({
      where: { ownerId: existing.id },
      orderBy: { createdAt: "asc" },
    });
    return {
      email: DEMO_EMAIL,
      password: saved.password ?? "(see demo-credentials.json)",
      joinCode: seminar?.joinCode ?? "",
      joinUrl: seminar ? joinUrl(context.publicUrl(), seminar.joinCode) : "",
      seminarId: seminar?.id ?? "",
    };
  }
  const password = randomBytes(9).toString("base64url");
  // The password is kept before the account exists: a start cut off after the account was made
  // would otherwise leave a demo moderator nobody can sign in as.
  await writeAtomically(file, { email: DEMO_EMAIL, password });
  const account = await registerAccount(context.prisma, {
    email: DEMO_EMAIL,
    password,
    displayName: "Demo Moderator",
  });
  const essay = await readFile(new URL("./demo-essay.md", import.meta.url), "utf8");
  const seminar = await createSeminar(context, account, {
    title: "Demo: Who Owns a Breakthrough?",
    essay: { text: essay, format: "markdown" },
    prompts: [
      {
        kind: "single_choice",
        question: "Should DeepSeek be a national team?",
        options: ["Yes", "No", "Not sure"],
        anonymous: true,
        resultsVisibility: "live",
      },
      {
        kind: "scale",
        question: "Open weights help a country's AI ecosystem more than closed models do.",
        min: 1,
        max: 5,
        minLabel: "Strongly disagree",
        maxLabel: "Strongly agree",
        anonymous: true,
        resultsVisibility: "after_close",
      },
    ],
  });
  const host = await context.prisma.membership.findFirstOrThrow({
    where: { seminarId: seminar.id, accountId: account.id },
  });
  const actor = { seminarId: seminar.id, memberId: host.id, role: host.role };
  await startSession(realtime.rooms, actor);
  const first = await context.prisma.prompt.findFirstOrThrow({
    where: { seminarId: seminar.id },
    orderBy: { position: "asc" },
  });
  await changePromptState(promptDeps(context, realtime), actor, first.id, "open");
  const info: DemoInfo = {
    email: DEMO_EMAIL,
    password,
    joinCode: seminar.joinCode,
    joinUrl: joinUrl(context.publicUrl(), seminar.joinCode),
    seminarId: seminar.id,
  };
  await writeAtomically(file, info);
  return info;
}

/** What a credentials file holds; a missing, cut-off or foreign file holds nothing. */
const SavedCredentials = z.object({ password: z.string().optional() });

async function readSaved(file: string): Promise<{ password?: string }> {
  try {
    const parsed = SavedCredentials.safeParse(JSON.parse(await readFile(file, "utf8")));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** Writes the file whole or not at all (a temporary file renamed over it), readable by the owner only. */
async function writeAtomically(file: string, value: object): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
}
