/**
 * The CSV tables of a transcript, written by csv-stringify: RFC 4180 (fields quoted when they hold
 * a comma, quote or line break; quotes doubled; CRLF between records), UTF-8 with a byte order
 * mark so spreadsheet programs read CJK text as UTF-8, and a header row. A cell that a spreadsheet
 * would run as a formula (starting with =, +, -, @, a tab or CR, or their full-width forms) gets a
 * leading apostrophe, the mark spreadsheets read as "text".
 */
import { stringify } from "csv-stringify/sync";
import { REACTION_KINDS } from "../../protocol/annotations.ts";
import type { TranscriptTable } from "../../protocol/transcripts.ts";
import type { PromptView } from "../../protocol/views.ts";
import { type DescribeContext, describeEntry, memberName } from "./transcript.markdown.ts";
import { slices, type TranscriptSource } from "./transcripts.service.ts";

/** A cell that a spreadsheet would evaluate, made inert (see OWASP "CSV injection"). */
export function neutralizeCell(value: string): string {
  return /^[=+\-@\t\r＝＋－＠]/.test(value) ? `'${value}` : value;
}

type Cell = string | number | boolean | null;
type Row = Record<string, Cell>;

/** Each table's columns, in order (snake_case keys: csv-stringify reads dots as nesting). */
export const CSV_COLUMNS: Record<TranscriptTable, readonly string[]> = {
  members: ["id", "display_name", "role", "status", "joined_at"],
  annotations: [
    "id",
    "paragraph_id",
    "paragraph_number",
    "parent_id",
    "author_id",
    "author_name",
    "created_at",
    "edited_at",
    "version",
    "deleted",
    "hidden",
    "pinned",
    "quote_start",
    "quote_end",
    "quote_exact",
    "quote_prefix",
    "quote_suffix",
    "body",
    "tags",
    ...REACTION_KINDS.map((kind) => `reactions_${kind}`),
  ],
  ballots: [
    "prompt_id",
    "prompt_number",
    "question",
    "member_id",
    "member_name",
    "option_id",
    "option_label",
    "option_value",
    "revision",
    "cast_at",
    "changed_at",
  ],
  tallies: [
    "source",
    "prompt_id",
    "prompt_number",
    "question",
    "version",
    "taken_at",
    "ballots",
    "option_id",
    "option_label",
    "option_value",
    "count",
  ],
  timeline: ["seq", "at", "kind", "type", "actor_id", "actor_name", "summary", "data"],
};

/** One page of rows as CSV text; the first page carries the byte order mark and the header. */
function csvPage(table: TranscriptTable, rows: Row[], first: boolean): string {
  return stringify(rows, {
    columns: [...CSV_COLUMNS[table]],
    header: first,
    bom: first,
    record_delimiter: "windows",
    cast: {
      string: (value) => neutralizeCell(value),
      boolean: (value) => (value ? "true" : "false"),
    },
  });
}

/** The rows of one table, page by page. */
async function* rowsOf(source: TranscriptSource, table: TranscriptTable): AsyncGenerator<Row[]> {
  const { head, members } = source;
  const prompts = new Map(head.prompts.map((prompt) => [prompt.id, prompt]));
  const blockNumbers = new Map(head.essay.paragraphs.map((block) => [block.id, block.position + 1]));
  const optionOf = (prompt: PromptView | undefined, optionId: string) =>
    prompt?.options.find((option) => option.id === optionId);
  switch (table) {
    case "members":
      for await (const page of slices(head.members)) {
        yield page.map((member) => ({
          id: member.id,
          display_name: member.displayName,
          role: member.role,
          status: member.status,
          joined_at: member.joinedAt,
        }));
      }
      return;
    case "annotations":
      for await (const page of source.annotations()) {
        yield page.map((annotation) => {
          const row: Row = {
            id: annotation.id,
            paragraph_id: annotation.paragraphId,
            paragraph_number: blockNumbers.get(annotation.paragraphId) ?? null,
            parent_id: annotation.parentId,
            author_id: annotation.authorId,
            author_name: memberName(members, annotation.authorId),
            created_at: annotation.createdAt,
            edited_at: annotation.editedAt,
            version: annotation.version,
            deleted: annotation.deleted,
            hidden: annotation.hidden,
            pinned: annotation.pinned,
            quote_start: annotation.selector?.start ?? null,
            quote_end: annotation.selector?.end ?? null,
            quote_exact: annotation.selector?.exact ?? null,
            quote_prefix: annotation.selector?.prefix ?? null,
            quote_suffix: annotation.selector?.suffix ?? null,
            body: annotation.body,
            tags: annotation.tags.join(" "),
          };
          for (const kind of REACTION_KINDS)
            row[`reactions_${kind}`] = annotation.reactions[kind]?.length ?? 0;
          return row;
        });
      }
      return;
    case "ballots":
      for await (const page of source.ballots()) {
        yield page.flatMap((ballot) => {
          const prompt = prompts.get(ballot.promptId);
          return ballot.optionIds.map((optionId) => ({
            prompt_id: ballot.promptId,
            prompt_number: prompt ? prompt.position + 1 : null,
            question: prompt?.question ?? null,
            member_id: ballot.memberId,
            member_name: memberName(members, ballot.memberId),
            option_id: optionId,
            option_label: optionOf(prompt, optionId)?.label ?? null,
            option_value: optionOf(prompt, optionId)?.value ?? null,
            revision: ballot.revision,
            cast_at: ballot.castAt,
            changed_at: ballot.changedAt,
          }));
        });
      }
      return;
    case "tallies": {
      const tallyRows = (
        kind: "final" | "history",
        tally: { promptId: string; version: number; ballots: number; counts: Record<string, number> },
        takenAt: string | null,
      ): Row[] => {
        const prompt = prompts.get(tally.promptId);
        return (prompt?.options ?? []).map((option) => ({
          source: kind,
          prompt_id: tally.promptId,
          prompt_number: prompt ? prompt.position + 1 : null,
          question: prompt?.question ?? null,
          version: tally.version,
          taken_at: takenAt,
          ballots: tally.ballots,
          option_id: option.id,
          option_label: option.label,
          option_value: option.value,
          count: tally.counts[option.id] ?? 0,
        }));
      };
      yield head.tallies.flatMap((tally) => tallyRows("final", tally, null));
      for await (const page of source.tallyHistory()) {
        yield page.flatMap((tally) => tallyRows("history", tally, tally.takenAt));
      }
      return;
    }
    case "timeline": {
      const context: DescribeContext = {
        members,
        blockNumbers,
        promptNumbers: new Map(head.prompts.map((prompt) => [prompt.id, prompt.position + 1])),
      };
      for await (const page of source.timeline()) {
        yield page.map((entry) => {
          const actor = entry.kind === "event" ? entry.event.actor : null;
          return {
            seq: entry.kind === "event" ? entry.event.seq : null,
            at: entry.at,
            kind: entry.kind,
            type: entry.kind === "event" ? entry.event.type : "tally:stored",
            actor_id: actor,
            actor_name: actor === null ? null : memberName(members, actor),
            summary: describeEntry(entry, context),
            data: JSON.stringify(entry.kind === "event" ? entry.event.data : entry.tally),
          };
        });
      }
      return;
    }
  }
}

/** One CSV table of the transcript, as chunks of text. */
export async function* csvTranscript(
  source: TranscriptSource,
  table: TranscriptTable,
): AsyncGenerator<string> {
  let first = true;
  for await (const rows of rowsOf(source, table)) {
    if (rows.length === 0 && !first) continue;
    yield csvPage(table, rows, first);
    first = false;
  }
  if (first) yield csvPage(table, [], true);
}
