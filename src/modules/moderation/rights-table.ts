/**
 * The rights table (moderation.policy RIGHTS and COMMAND_RIGHTS) as Markdown, for
 * docs/moderation.md: `npx tsx scripts/rights-table.ts` writes it there, and a test fails when
 * the document and the code disagree.
 */
import type { CommandName } from "../../protocol/commands.ts";
import { COMMAND_RIGHTS, RIGHTS, type RightName, ROLES, STATES } from "./moderation.policy.ts";

/** The markers docs/moderation.md keeps the generated table between. */
export const RIGHTS_TABLE_MARKERS = {
  start: "<!-- rights-table:start (generated from src/modules/moderation/moderation.policy.ts) -->",
  end: "<!-- rights-table:end -->",
} as const;

const ROLE_HEADINGS = {
  host: "host",
  co_moderator: "co-moderator",
  participant: "participant",
  observer: "observer",
};

/** The rights table as a Markdown table: one row per right, with its commands. */
export function renderRightsTable(): string {
  const commands = new Map<RightName, CommandName[]>();
  for (const [command, right] of Object.entries(COMMAND_RIGHTS) as [CommandName, RightName][]) {
    commands.set(right, [...(commands.get(right) ?? []), command]);
  }
  const header = [
    "right",
    "commands",
    ...ROLES.map((role) => ROLE_HEADINGS[role]),
    "while muted",
    "seminar states",
    "outside those states",
  ];
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`];
  for (const [name, right] of Object.entries(RIGHTS) as [RightName, (typeof RIGHTS)[RightName]][]) {
    const cells = [
      `**${name}**: ${right.summary}`,
      (commands.get(name) ?? []).map((command) => `\`${command}\``).join(", "),
      ...ROLES.map((role) => (right.roles.includes(role) ? "yes" : "–")),
      right.whileMuted ? "yes" : "no",
      right.states.join(", "),
      right.states.length === STATES.length ? "–" : `\`${right.outsideStates}\``,
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/** `document` with the generated table put between the markers (which must be there). */
export function withRightsTable(document: string): string {
  const start = document.indexOf(RIGHTS_TABLE_MARKERS.start);
  const end = document.indexOf(RIGHTS_TABLE_MARKERS.end);
  if (start < 0 || end < start) throw new Error("docs/moderation.md lacks the rights-table markers");
  return `${document.slice(0, start + RIGHTS_TABLE_MARKERS.start.length)}\n${renderRightsTable()}\n${document.slice(end)}`;
}

/**
 * A Markdown table with its cells trimmed and its rule row reduced to `---`, so that the table as
 * rendered and the one a formatter aligned in the document compare equal.
 */
export function normalizeTable(table: string): string {
  return table
    .trim()
    .split("\n")
    .map((line) =>
      line
        .split("|")
        .map((cell) => cell.trim().replace(/^:?-{3,}:?$/, "---"))
        .join("|"),
    )
    .join("\n");
}
