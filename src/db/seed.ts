import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AppContext } from "../context.ts";
import { registerAccount } from "../modules/accounts/accounts.service.ts";
import { joinUrl } from "../modules/seminars/seminars.presenter.ts";
import { createSeminar } from "../modules/seminars/seminars.service.ts";

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
 * prompts. On later starts it reads the same file and seeds nothing.
 */
export async function seedDemo(context: AppContext): Promise<DemoInfo> {
  const file = join(context.config.dataDir, CREDENTIALS_FILE);
  const existing = await context.prisma.account.findUnique({ where: { email: DEMO_EMAIL } });
  if (existing) {
    const saved = JSON.parse(await readFile(file, "utf8").catch(() => "{}")) as Partial<DemoInfo>;
    const seminar = await context.prisma.seminar.findFirst({
      where: { ownerId: existing.id },
      orderBy: { createdAt: "asc" },
    });
    return {
      email: DEMO_EMAIL,
      password: saved.password ?? "(see demo-credentials.json)",
      joinCode: seminar?.joinCode ?? "",
      joinUrl: seminar ? joinUrl(context.config.publicUrl!, seminar.joinCode) : "",
      seminarId: seminar?.id ?? "",
    };
  }
  const password = randomBytes(9).toString("base64url");
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
  const info: DemoInfo = {
    email: DEMO_EMAIL,
    password,
    joinCode: seminar.joinCode,
    joinUrl: joinUrl(context.config.publicUrl!, seminar.joinCode),
    seminarId: seminar.id,
  };
  await writeFile(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  return info;
}
