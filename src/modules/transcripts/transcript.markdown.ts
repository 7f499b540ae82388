/**
 * The Markdown transcript: title, byline and date; the essay block by block with the threads on
 * each paragraph beneath it; each prompt with its final tally as a table with bars; the timeline.
 * Every piece of text that did not come from this file (titles, essay text, names, comments,
 * options, reasons) goes through `escapeMarkdownInline`, so it renders as the words it is and
 * cannot make a heading, list, link, image, table, code or HTML.
 */
import type { TimelineEntryView, TranscriptAnnotationView } from "../../protocol/transcripts.ts";
import type { MemberView, ParagraphView, PromptView, TallyView } from "../../protocol/views.ts";
import type { TranscriptSource, TranscriptThread } from "./transcripts.service.ts";

/** Characters escaped wherever they are: they start inline or block syntax (or HTML, entities, math). */
const ALWAYS_ESCAPED = /[\\`*_[\]<>&|~#$@]/g;

/**
 * Text a reader wrote (or any text not written by this file) as Markdown inline content that
 * renders as exactly that text, in CommonMark and GFM renderers alike:
 * - backslash-escapes the characters that open inline or block syntax (emphasis, code, links,
 *   images, autolinks, HTML, entities, tables, strikethrough, headings, math, e-mail links);
 * - breaks what renderers link on their own: `scheme://`, `//host`, `www.`, `host.tld` (a dot
 *   followed by a letter or digit is escaped, so prose keeps its plain full stops);
 * - at the start of each line, escapes what would begin a list, quote, setext heading or
 *   thematic break, and drops indentation (which would make a code block);
 * - turns line breaks into hard breaks (`\` at the end of a line), or spaces when `singleLine`
 *   (table cells); empty lines collapse, so text cannot end the block it sits in.
 * CJK text and full-width punctuation pass through untouched.
 * The caller indents continuation lines when it puts the result inside a list item.
 */
export function escapeMarkdownInline(text: string, options: { singleLine?: boolean } = {}): string {
  const lines = text
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => escapeLine(line))
    .filter((line) => line.length > 0);
  return lines.join(options.singleLine ? " " : "\\\n");
}

function escapeLine(raw: string): string {
  let line = raw
    .trim()
    .replace(ALWAYS_ESCAPED, (char) => `\\${char}`)
    // Autolinks and bare URLs: `scheme:` before `//`, a leading `//`, and domain-like dots.
    .replace(/:(?=\/)/g, "\\:")
    .replace(/\/(?=\/)/g, "\\/")
    .replace(/\.(?=[\p{L}\p{N}])/gu, "\\.");
  // Block starts: list bullets, setext underlines and thematic breaks, ordered list numbers.
  if (/^[-+=]/.test(line)) line = `\\${line}`;
  line = line.replace(/^(\d+)([.)])/, "$1\\$2");
  return line;
}

/** Indents every non-empty line after the first by `indent` (continuation lines inside a list item). */
function indented(text: string, indent: string): string {
  return text.replace(/\n(?=[^\n])/g, `\n${indent}`);
}

/** "1 ballot", "2 ballots". */
const ballotsCount = (n: number) => `${n} ballot${n === 1 ? "" : "s"}`;

/** A time as `2026-12-01 20:50:01 UTC`. */
export function readableTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** The name of a member as the transcript shows them (a pseudonym when anonymised). */
export function memberName(members: ReadonlyMap<string, MemberView>, id: string | null): string {
  if (id === null) return "The system";
  return members.get(id)?.displayName ?? "A former member";
}

const ROLE_LABEL: Record<MemberView["role"], string> = {
  host: "host",
  co_moderator: "co-moderator",
  participant: "participant",
  observer: "observer",
};

const MODERATION_VERB = {
  hide: "hid",
  restore: "restored",
  pin: "pinned",
  unpin: "unpinned",
  remove: "removed",
} as const;

const MEMBER_VERB = {
  mute: "muted",
  unmute: "unmuted",
  kick: "removed",
  ban: "banned",
  unban: "unbanned",
} as const;

/** " (reason)" when a moderator gave one the viewer may read. */
const because = (reason: string | null) => (reason ? ` (${excerpt(reason)})` : "");

/** What the paragraph numbers and names in descriptions refer to. */
export interface DescribeContext {
  members: ReadonlyMap<string, MemberView>;
  /** paragraph id -> 1-based block number. */
  blockNumbers: ReadonlyMap<string, number>;
  /** prompt id -> 1-based prompt number. */
  promptNumbers: ReadonlyMap<string, number>;
}

/** The first `max` code points of a text on one line, with an ellipsis when cut. */
function excerpt(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const points = [...flat];
  return points.length <= max ? flat : `${points.slice(0, max).join("")}…`;
}

/** One timeline entry as a plain-text sentence (not escaped: escape it where it goes). */
export function describeEntry(entry: TimelineEntryView, context: DescribeContext): string {
  if (entry.kind === "tally") {
    const { tally } = entry;
    const number = context.promptNumbers.get(tally.promptId) ?? "?";
    return `Tally of prompt ${number}: ${ballotsCount(tally.ballots)} (version ${tally.version})`;
  }
  const { event } = entry;
  const who = memberName(context.members, event.actor);
  const block = (paragraphId: string) => `paragraph ${context.blockNumbers.get(paragraphId) ?? "?"}`;
  const prompt = (view: PromptView) => `prompt ${view.position + 1} (${excerpt(view.question)})`;
  switch (event.type) {
    case "member:joined":
      return `${memberName(context.members, event.data.member.id)} joined as ${ROLE_LABEL[event.data.member.role]}`;
    case "member:updated": {
      const { member } = event.data;
      return `${memberName(context.members, member.id)} is now ${ROLE_LABEL[member.role]} (${member.status})`;
    }
    case "seminar:started":
      return "The session started";
    case "seminar:ended":
      return "The session ended";
    case "seminar:updated":
      return `${who} changed the room's settings`;
    case "essay:replaced":
      return `${who} replaced the essay`;
    case "annotation:created": {
      const { annotation } = event.data;
      const what = annotation.parentId ? "replied on" : "annotated";
      const text = annotation.deleted ? "(since deleted)" : `“${excerpt(annotation.body)}”`;
      return `${who} ${what} ${block(annotation.paragraphId)}: ${text}`;
    }
    case "annotation:updated":
      return `${who} edited an annotation on ${block(event.data.annotation.paragraphId)}`;
    case "annotation:deleted":
      return `${who} deleted an annotation on ${block(event.data.annotation.paragraphId)}`;
    case "annotation:reacted":
      return `${who} ${event.data.active ? "reacted" : "withdrew the reaction"} “${event.data.kind}”`;
    case "annotation:moderated": {
      const { annotation, action, reason } = event.data;
      const author = memberName(context.members, annotation.authorId);
      const why = reason ? ` (${excerpt(reason)})` : "";
      return `${who} ${MODERATION_VERB[action]} an annotation by ${author} on ${block(annotation.paragraphId)}${why}`;
    }
    case "annotation:withdrawn":
      return "An annotation not shown to you changed";
    case "prompt:created":
      return `${who} created ${prompt(event.data.prompt)}`;
    case "prompt:updated":
      return `${who} edited ${prompt(event.data.prompt)}`;
    case "prompt:opened":
      return `${who} opened ${prompt(event.data.prompt)}`;
    case "prompt:closed":
      return `${who} closed ${prompt(event.data.prompt)}`;
    case "prompt:revealed":
      return `${who} revealed the results of ${prompt(event.data.prompt)}`;
    case "prompt:deleted":
      return `${who} deleted a draft prompt`;
    case "member:moderated": {
      const { member, action } = event.data;
      const name = memberName(context.members, member.id);
      const done =
        action === "role" ? `made ${name} ${ROLE_LABEL[member.role]}` : `${MEMBER_VERB[action]} ${name}`;
      return `${who} ${done}${because(event.data.reason)}`;
    }
    case "room:locked":
      return `${who} ${event.data.locked ? "locked" : "unlocked"} the room${because(event.data.reason)}`;
    case "room:slow_mode":
      return event.data.seconds > 0
        ? `${who} set slow mode to one message every ${event.data.seconds} s`
        : `${who} turned slow mode off`;
    case "room:spotlight":
      return event.data.spotlight
        ? `${who} spotlighted ${block(event.data.spotlight.paragraphId)}`
        : `${who} cleared the spotlight`;
    case "room:phase":
      return event.data.phase
        ? `${who} started the phase “${excerpt(event.data.phase.label)}”`
        : `${who} ended the phases`;
    case "room:phase_ended":
      return `The phase “${excerpt(event.data.phase.label)}” ended`;
    case "queue:updated": {
      const { action, memberId } = event.data;
      const name = memberName(context.members, memberId);
      if (action === "raise") return `${name} raised a hand`;
      if (action === "lower") {
        return who === name ? `${name} lowered their hand` : `${who} lowered the hand of ${name}`;
      }
      if (action === "call") return `${who} called on ${name}`;
      return `${who} cleared the speaking queue`;
    }
    default:
      return `${who}: ${(event as { type: string }).type}`;
  }
}

/** A bar of `width` cells for a share between 0 and 1. */
export function bar(share: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, share)) * width);
  return "█".repeat(filled) + "░".repeat(width - filled);
}

const KIND_LABEL: Record<PromptView["kind"], string> = {
  single_choice: "single choice",
  multiple_choice: "multiple choice",
  scale: "scale",
};

const VISIBILITY_LABEL: Record<PromptView["resultsVisibility"], string> = {
  live: "results shown live",
  after_close: "results shown after closing",
  moderators: "results for moderators only",
};

/** A prompt with its final tally as a table with bars (and who voted what, when the viewer may see it). */
export function promptSection(
  prompt: PromptView,
  tally: TallyView | undefined,
  members: ReadonlyMap<string, MemberView>,
): string {
  const facts = [
    KIND_LABEL[prompt.kind] + (prompt.kind === "multiple_choice" ? ` (up to ${prompt.maxChoices})` : ""),
    prompt.anonymous ? "anonymous" : "named",
    VISIBILITY_LABEL[prompt.resultsVisibility],
    prompt.state,
  ];
  const lines = [
    `### ${prompt.position + 1}. ${escapeMarkdownInline(prompt.question, { singleLine: true })}`,
    "",
  ];
  lines.push(`${facts.join(" · ")}${tally ? ` · ${ballotsCount(tally.ballots)}` : ""}`, "");
  if (!tally) {
    lines.push(prompt.state === "draft" ? "Not opened." : "The results are not shown to you.", "");
    return lines.join("\n");
  }
  lines.push("| Option | Votes | Share | |", "| --- | ---: | ---: | --- |");
  for (const option of prompt.options) {
    const count = tally.counts[option.id] ?? 0;
    const share = tally.ballots > 0 ? count / tally.ballots : 0;
    const label = escapeMarkdownInline(option.label, { singleLine: true });
    lines.push(`| ${label} | ${count} | ${Math.round(share * 100)}% | ${bar(share)} |`);
  }
  lines.push("");
  if (tally.voters) {
    for (const option of prompt.options) {
      const voters = (tally.voters[option.id] ?? []).map((id) => memberName(members, id));
      if (voters.length === 0) continue;
      const names = voters.map((name) => escapeMarkdownInline(name, { singleLine: true })).join(", ");
      lines.push(`- ${escapeMarkdownInline(option.label, { singleLine: true })}: ${names}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

/** The heading line of one annotation: who, when, and its state. */
function annotationLine(annotation: TranscriptAnnotationView, members: ReadonlyMap<string, MemberView>) {
  const marks = [readableTime(annotation.createdAt)];
  if (annotation.editedAt) marks.push(`edited ${readableTime(annotation.editedAt)}`);
  if (annotation.pinned) marks.push("pinned");
  if (annotation.hidden) marks.push("hidden by a moderator");
  if (annotation.deleted) marks.push("deleted");
  const name = escapeMarkdownInline(memberName(members, annotation.authorId), { singleLine: true });
  return `${name} · ${marks.join(" · ")}`;
}

/** One annotation as the content of a list item, continuation lines indented by `indent`. */
function annotationItem(
  annotation: TranscriptAnnotationView,
  members: ReadonlyMap<string, MemberView>,
  indent: string,
): string {
  const parts = [annotationLine(annotation, members)];
  if (annotation.selector)
    parts.push(`> ${escapeMarkdownInline(annotation.selector.exact, { singleLine: true })}`);
  parts.push(annotation.deleted ? "*(deleted by its author)*" : escapeMarkdownInline(annotation.body));
  const extras: string[] = [];
  if (annotation.tags.length > 0) {
    extras.push(
      `Tags: ${annotation.tags.map((tag) => escapeMarkdownInline(tag, { singleLine: true })).join(", ")}`,
    );
  }
  const reactions = Object.entries(annotation.reactions)
    .filter(([, ids]) => ids.length > 0)
    .map(([kind, ids]) => `${escapeMarkdownInline(kind, { singleLine: true })} ${ids.length}`);
  if (reactions.length > 0) extras.push(`Reactions: ${reactions.join(", ")}`);
  if (extras.length > 0) parts.push(extras.join(" · "));
  return indented(parts.join("\n\n"), indent);
}

/** A thread: its root as a list item and its replies nested beneath. */
function threadItem(thread: TranscriptThread, members: ReadonlyMap<string, MemberView>): string {
  const root = thread.root
    ? `- ${annotationItem(thread.root, members, "  ")}`
    : "- *A thread whose first annotation is not shown to you*";
  const replies = thread.replies.map((reply) => `  - ${annotationItem(reply, members, "    ")}`);
  return [root, ...replies].join("\n\n");
}

/** One block of the essay as Markdown. */
function blockText(block: ParagraphView): string {
  const text = escapeMarkdownInline(block.text, { singleLine: block.kind === "heading" });
  switch (block.kind) {
    case "heading":
      return `${"#".repeat(Math.min(6, (block.level ?? 1) + 2))} ${text}`;
    case "section_marker":
      return `**${text}**`;
    case "caption":
      return `*${text}*`;
    case "quote":
      return `> ${indented(text, "> ")}`;
    case "list_item":
      return `- ${indented(text, "  ")}`;
    default:
      return text;
  }
}

/** The Markdown transcript, as chunks of text. */
export async function* markdownTranscript(source: TranscriptSource): AsyncGenerator<string> {
  const { head, members } = source;
  const { essay, seminar } = head;
  const lines = [`# ${escapeMarkdownInline(seminar.title, { singleLine: true })}`, ""];
  if (essay.title !== seminar.title) lines.push(escapeMarkdownInline(essay.title, { singleLine: true }), "");
  for (const line of [essay.byline, essay.dateline]) {
    if (line) lines.push(escapeMarkdownInline(line, { singleLine: true }), "");
  }
  const moderators = head.members.filter((m) => m.role === "host" || m.role === "co_moderator").length;
  lines.push(
    `- Session: ${seminar.state}${seminar.startedAt ? `, started ${readableTime(seminar.startedAt)}` : ""}${
      seminar.endedAt ? `, ended ${readableTime(seminar.endedAt)}` : ""
    }`,
    `- Members: ${head.members.length} (${moderators} moderating)`,
    `- Transcript for ${head.viewer.moderator ? "a moderator" : `a ${ROLE_LABEL[head.viewer.role]}`}${
      head.anonymized ? ", anonymised" : ""
    }; generated ${readableTime(head.generatedAt)}, room log up to event ${head.asOfSeq}`,
    "",
    "## Essay",
    "",
  );
  yield `${lines.join("\n")}\n`;

  for (const block of essay.paragraphs) {
    let out = `${blockText(block)}\n\n`;
    let first = true;
    for await (const threads of source.threads(block.id)) {
      if (first && threads.length > 0) out += `Annotations on paragraph ${block.position + 1}:\n\n`;
      first = first && threads.length === 0;
      for (const thread of threads) out += `${threadItem(thread, members)}\n\n`;
      yield out;
      out = "";
    }
    if (out) yield out;
  }

  const tallies = new Map(head.tallies.map((tally) => [tally.promptId, tally]));
  if (head.prompts.length > 0) {
    yield "## Prompts\n\n";
    for (const prompt of head.prompts) yield `${promptSection(prompt, tallies.get(prompt.id), members)}\n`;
  }

  const context: DescribeContext = {
    members,
    blockNumbers: new Map(essay.paragraphs.map((block) => [block.id, block.position + 1])),
    promptNumbers: new Map(head.prompts.map((prompt) => [prompt.id, prompt.position + 1])),
  };
  yield "## Timeline\n\n";
  for await (const page of source.timeline()) {
    if (page.length === 0) continue;
    const items = page.map(
      (entry) =>
        `- ${readableTime(entry.at)} · ${escapeMarkdownInline(describeEntry(entry, context), { singleLine: true })}`,
    );
    yield `${items.join("\n")}\n`;
  }
}
