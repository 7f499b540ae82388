/**
 * The essay's source, pasted or read from an uploaded `.txt`/`.md` file, and the importer's
 * preview of it (POST /api/essays/preview): title, byline, date, counts of paragraphs, sections,
 * captions, and every block. The parent learns the source and whether the preview shown is of it,
 * so nothing is saved that the moderator has not seen.
 */
import { useState } from "preact/hooks";
import type { z } from "zod";
import { LIMITS } from "../../../../src/protocol/limits.ts";
import type { ErrorBody } from "../../../../src/protocol/result.ts";
import { EssayFormatInput } from "../../../../src/protocol/schemas.ts";
import type { BlockKind } from "../../../../src/protocol/views.ts";
import { type EssayPreview, previewEssay } from "../../connection/moderator-api.ts";
import { Field } from "../../ui/Field.tsx";
import { describeError, fieldErrors } from "../../ui/form-errors.ts";
import { plural } from "../../ui/text.ts";

export type EssayFormat = z.infer<typeof EssayFormatInput>;

/** The essay as it will be sent, with the preview of exactly this text (undefined until previewed). */
export interface EssayDraft {
  text: string;
  format: EssayFormat;
  preview: EssayPreview | undefined;
}

/** A file larger than this is refused before it is read (the server takes 200,000 characters). */
const MAX_FILE_BYTES = LIMITS.essaySourceChars * 4;

const BLOCK_NAMES: Record<BlockKind, string> = {
  heading: "Heading",
  section_marker: "Section",
  caption: "Caption",
  paragraph: "Paragraph",
  quote: "Quote",
  list_item: "List item",
};

/** The format the importer should assume for a file, from its name. */
function formatOfFile(name: string): EssayFormat | undefined {
  if (/\.(md|markdown)$/i.test(name)) return "markdown";
  if (/\.txt$/i.test(name)) return "text";
  return undefined;
}

export function EssayForm(props: { idPrefix: string; onChange: (draft: EssayDraft) => void }) {
  const [text, setText] = useState("");
  const [format, setFormat] = useState<EssayFormat>("auto");
  const [fileNote, setFileNote] = useState<string | undefined>();
  const [preview, setPreview] = useState<{ of: string; data: EssayPreview } | undefined>();
  const [error, setError] = useState<ErrorBody | undefined>();
  const [busy, setBusy] = useState(false);
  const id = (name: string) => `${props.idPrefix}-${name}`;
  const key = (source: string, kind: EssayFormat) => `${kind}\n${source}`;
  const fields = fieldErrors(error);

  const change = (nextText: string, nextFormat: EssayFormat) => {
    setText(nextText);
    setFormat(nextFormat);
    const current = preview?.of === key(nextText, nextFormat) ? preview.data : undefined;
    props.onChange({ text: nextText, format: nextFormat, preview: current });
  };

  const readFile = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (!file) return;
    const fileFormat = formatOfFile(file.name);
    if (!fileFormat) {
      setFileNote(`${file.name} is not a .txt or .md file.`);
      return;
    }
    if (file.size > MAX_FILE_BYTES) {
      setFileNote(
        `${file.name} is too large (at most ${LIMITS.essaySourceChars.toLocaleString()} characters).`,
      );
      return;
    }
    const content = await file.text();
    setFileNote(`Read ${file.name} (${[...content].length.toLocaleString()} characters).`);
    change(content, fileFormat);
  };

  const runPreview = async () => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    const result = await previewEssay({ text, format });
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setPreview({ of: key(text, format), data: result.data });
    props.onChange({ text, format, preview: result.data });
  };

  const shown = preview?.of === key(text, format) ? preview.data : undefined;
  const stale = preview !== undefined && !shown;

  return (
    <div class="essay-form">
      <div class="essay-source">
        <div class="field">
          <label for={id("file")}>Upload a .txt or .md file</label>
          <input
            id={id("file")}
            type="file"
            accept=".txt,.md,.markdown,text/plain,text/markdown"
            onChange={(event) => void readFile(event.currentTarget)}
            aria-describedby={fileNote ? id("file-note") : undefined}
          />
          {fileNote && (
            <p class="hint" id={id("file-note")} role="status">
              {fileNote}
            </p>
          )}
        </div>
        <Field
          id={id("text")}
          label="Essay text"
          error={fields.text}
          hint="Paste plain text or Markdown, or upload a file above. Blank lines separate paragraphs."
        >
          {(control) => (
            <textarea
              {...control}
              class="essay-text"
              rows={10}
              value={text}
              maxLength={LIMITS.essaySourceChars}
              onInput={(event) => change(event.currentTarget.value, format)}
            />
          )}
        </Field>
        <Field id={id("format")} label="Format" error={fields.format}>
          {(control) => (
            <select
              {...control}
              value={format}
              onChange={(event) =>
                change(text, EssayFormatInput.catch("auto").parse(event.currentTarget.value))
              }
            >
              <option value="auto">Detect (plain text or Markdown)</option>
              <option value="text">Plain text</option>
              <option value="markdown">Markdown</option>
            </select>
          )}
        </Field>
        {error && (
          <p class="form-error" role="alert">
            {describeError(error)}
          </p>
        )}
        <button type="button" class="primary" onClick={() => void runPreview()} disabled={busy}>
          {busy ? "Reading the essay…" : stale ? "Preview again" : "Preview"}
        </button>
        {stale && (
          <p class="notice" role="status">
            The text changed since the preview below. Preview it again before saving.
          </p>
        )}
      </div>
      {preview && <EssayPreviewPanel preview={preview.data} idPrefix={props.idPrefix} />}
    </div>
  );
}

/** What the importer found: the head, the counts and every block. */
export function EssayPreviewPanel(props: { preview: EssayPreview; idPrefix: string }) {
  const { preview } = props;
  const { counts } = preview;
  const headingId = `${props.idPrefix}-preview-title`;
  return (
    <section class="essay-preview" aria-labelledby={headingId} lang={preview.language ?? undefined}>
      <h3 id={headingId}>Preview</h3>
      <dl class="preview-head">
        <dt>Title</dt>
        <dd class="preview-title">{preview.title}</dd>
        <dt>Byline</dt>
        <dd class="preview-byline">{preview.byline ?? "none found"}</dd>
        <dt>Date</dt>
        <dd class="preview-date">{preview.dateline ?? "none found"}</dd>
        <dt>Read as</dt>
        <dd>
          {preview.format === "markdown" ? "Markdown" : "plain text"}
          {preview.language ? `, language ${preview.language}` : ""}
        </dd>
      </dl>
      <ul class="preview-counts" lang="en">
        <li class="count-paragraphs">{plural(counts.paragraphs, "paragraph", "paragraphs")}</li>
        <li class="count-sections">
          {plural(counts.headings + counts.sectionMarkers, "section", "sections")} (
          {plural(counts.headings, "heading", "headings")},{" "}
          {plural(counts.sectionMarkers, "section marker", "section markers")})
        </li>
        <li class="count-captions">{plural(counts.captions, "caption", "captions")}</li>
        <li>
          {plural(counts.quotes, "quote", "quotes")}, {plural(counts.listItems, "list item", "list items")}
        </li>
      </ul>
      <section class="preview-blocks" aria-label="Blocks of the essay">
        <ol>
          {preview.blocks.map((block) => (
            <li key={block.position} class={`preview-block block-${block.kind}`}>
              <span class="block-kind" lang="en">
                {BLOCK_NAMES[block.kind]}
                {block.level ? ` ${block.level}` : ""}
              </span>{" "}
              <span class="block-text">{block.text}</span>
            </li>
          ))}
        </ol>
      </section>
    </section>
  );
}
