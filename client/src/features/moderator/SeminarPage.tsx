/**
 * `/seminars/<id>`: one of the moderator's seminars. A draft is prepared here (replace the essay,
 * add questions, start); in every state it shows the join code, link and QR code, the ways into
 * the live console and the projector, and the transcripts: every format, anonymised or not, and
 * whether participants may download them.
 */
import { useCallback, useEffect, useState } from "preact/hooks";
import type { ErrorBody } from "../../../../src/protocol/result.ts";
import {
  TRANSCRIPT_TABLES,
  type TranscriptFormat,
  type TranscriptTable,
} from "../../../../src/protocol/transcripts.ts";
import type { PromptView, RoomSnapshot } from "../../../../src/protocol/views.ts";
import {
  downloadTranscript,
  getSeminar,
  replaceEssay,
  startSeminar,
  updateSettings,
} from "../../connection/moderator-api.ts";
import { createPrompt, deletePrompt, updatePrompt } from "../../connection/moderator-commands.ts";
import { describeError } from "../../ui/form-errors.ts";
import { plural } from "../../ui/text.ts";
import { type EssayDraft, EssayForm } from "./EssayForm.tsx";
import { JoinDetails, JoinQrCode } from "./JoinDetails.tsx";
import { ModeratorShell } from "./ModeratorShell.tsx";
import { PromptEditor, PromptSummary, Refusal } from "./PromptEditor.tsx";
import { fieldsOf } from "./prompt-form.ts";
import { STATE_NAMES } from "./SeminarsPage.tsx";

export function SeminarPage(props: { seminarId: string }) {
  const [room, setRoom] = useState<RoomSnapshot | undefined>();
  const [loadError, setLoadError] = useState<ErrorBody | undefined>();

  const load = useCallback(async () => {
    const result = await getSeminar(props.seminarId);
    if (result.ok) {
      setRoom(result.data);
      setLoadError(undefined);
      document.title = `${result.data.seminar.title} · Stepstone`;
    } else setLoadError(result.error);
  }, [props.seminarId]);

  useEffect(() => {
    document.title = "Seminar · Stepstone";
    void load();
  }, [load]);

  if (!room) {
    return (
      <ModeratorShell title="Seminar">
        {loadError ? (
          <p class="form-error" role="alert">
            {describeError(loadError, { not_found: "This seminar does not exist or is not yours." })}
          </p>
        ) : (
          <p class="loading" role="status">
            Loading the seminar…
          </p>
        )}
      </ModeratorShell>
    );
  }

  const { seminar, essay } = room;
  const counts = {
    paragraphs: essay.paragraphs.filter((block) => block.kind === "paragraph").length,
    sections: essay.paragraphs.filter((block) => block.kind === "heading" || block.kind === "section_marker")
      .length,
  };
  return (
    <ModeratorShell title={seminar.title}>
      <section class="panel-section seminar-head" aria-labelledby="join-title">
        <div>
          <h2 id="join-title">
            <span class={`badge state-${seminar.state}`}>{STATE_NAMES[seminar.state]}</span> Joining
          </h2>
          <JoinDetails seminar={seminar} />
          {seminar.state !== "ended" && (
            <p class="seminar-actions">
              <a class="button primary" href={`/console/${seminar.id}`}>
                Open console
              </a>
              <a class="button" href={`/projector/${seminar.id}`}>
                Projector
              </a>
            </p>
          )}
          {seminar.state === "draft" && <StartSeminar seminarId={seminar.id} onStarted={load} />}
        </div>
        <JoinQrCode seminar={seminar} />
      </section>

      <section class="panel-section" aria-labelledby="essay-head">
        <h2 id="essay-head">The essay</h2>
        <p lang={essay.language ?? undefined}>
          <strong class="essay-title">{essay.title}</strong>
          {essay.byline && <span class="essay-byline"> · {essay.byline}</span>}
          {essay.dateline && <span> · {essay.dateline}</span>}
        </p>
        <p class="essay-counts">
          {plural(counts.paragraphs, "paragraph", "paragraphs")},{" "}
          {plural(counts.sections, "section", "sections")}
          {essay.frozen ? " (frozen since the start)" : ""}
        </p>
        {seminar.state === "draft" && <ReplaceEssay seminarId={seminar.id} onReplaced={load} />}
      </section>

      <section class="panel-section" aria-labelledby="questions-head">
        <h2 id="questions-head">Questions ({room.prompts.length})</h2>
        {room.prompts.length === 0 && <p>No questions yet.</p>}
        {room.prompts.length > 0 && (
          <ol class="prompt-drafts">
            {room.prompts.map((prompt, index) => (
              <li key={prompt.id} data-prompt={prompt.id}>
                <StoredQuestion
                  seminarId={seminar.id}
                  prompt={prompt}
                  number={index + 1}
                  editable={seminar.state !== "ended" && prompt.state === "draft"}
                  onChanged={load}
                />
              </li>
            ))}
          </ol>
        )}
        {seminar.state !== "ended" && (
          <PromptEditor
            idPrefix="seminar-prompt"
            onSave={async (prompt) => {
              const result = await createPrompt(seminar.id, prompt);
              if (!result.ok) return result.error;
              await load();
              return undefined;
            }}
          />
        )}
      </section>

      <Transcripts room={room} onChanged={(next) => setRoom({ ...room, seminar: next })} />
    </ModeratorShell>
  );
}

/**
 * One stored question: its summary and state, and for a draft (while the seminar has not ended)
 * Edit (the question's form, filled in, checked as the create form checks it, sent as
 * `prompt:update`) and Delete (after a confirmation, `prompt:delete`). Refusals show their code.
 */
function StoredQuestion(props: {
  seminarId: string;
  prompt: PromptView;
  number: number;
  editable: boolean;
  onChanged: () => Promise<void>;
}) {
  const { prompt } = props;
  const [mode, setMode] = useState<"view" | "edit" | "delete">("view");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorBody | undefined>();
  const name = `question ${props.number}`;

  if (mode === "edit") {
    return (
      <PromptEditor
        idPrefix={`edit-prompt-${props.number}`}
        editing={fieldsOf(prompt)}
        onCancel={() => setMode("view")}
        onSave={async (definition) => {
          // The form cannot set a paragraph; the one the question points at stays.
          const result = await updatePrompt(props.seminarId, {
            promptId: prompt.id,
            prompt: { ...definition, paragraphId: prompt.paragraphId ?? undefined },
          });
          if (!result.ok) return result.error;
          setMode("view");
          await props.onChanged();
          return undefined;
        }}
      />
    );
  }

  const remove = async () => {
    setBusy(true);
    setError(undefined);
    const result = await deletePrompt(props.seminarId, prompt.id);
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    await props.onChanged();
  };

  return (
    <>
      <PromptSummary prompt={{ ...prompt, options: prompt.options.map((option) => option.label) }} />
      <p class="hint">State: {prompt.state}</p>
      {props.editable && mode === "view" && (
        <p class="prompt-draft-actions">
          <button type="button" onClick={() => setMode("edit")}>
            Edit<span class="sr-only"> {name}</span>
          </button>
          <button type="button" onClick={() => setMode("delete")}>
            Delete…<span class="sr-only"> {name}</span>
          </button>
        </p>
      )}
      {mode === "delete" && (
        <fieldset class="confirm">
          <legend>Delete “{prompt.question}”? This cannot be undone.</legend>
          <button type="button" class="danger" disabled={busy} onClick={() => void remove()}>
            {busy ? "Deleting…" : "Delete the question"}
          </button>{" "}
          <button type="button" class="quiet" onClick={() => setMode("view")}>
            Keep it
          </button>
        </fieldset>
      )}
      {error && <Refusal error={error} />}
    </>
  );
}

/** Start, with a second press to confirm: the essay freezes and cannot be replaced afterwards. */
function StartSeminar(props: { seminarId: string; onStarted: () => Promise<void> }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorBody | undefined>();
  const start = async () => {
    setBusy(true);
    setError(undefined);
    const result = await startSeminar(props.seminarId);
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setConfirming(false);
    await props.onStarted();
  };
  return (
    <div class="start-seminar">
      {!confirming ? (
        <button type="button" class="primary" onClick={() => setConfirming(true)}>
          Start the seminar
        </button>
      ) : (
        <fieldset class="confirm">
          <legend>Start now? The essay is frozen and participants can write.</legend>
          <button type="button" class="primary" disabled={busy} onClick={() => void start()}>
            {busy ? "Starting…" : "Yes, start now"}
          </button>{" "}
          <button type="button" class="quiet" onClick={() => setConfirming(false)}>
            Not yet
          </button>
        </fieldset>
      )}
      {error && (
        <p class="form-error" role="alert">
          {describeError(error, { conflict: "This seminar has already started." })}
        </p>
      )}
    </div>
  );
}

/** A new essay for a draft, previewed first. */
function ReplaceEssay(props: { seminarId: string; onReplaced: () => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState<EssayDraft>({ text: "", format: "auto", preview: undefined });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorBody | undefined>();
  const [done, setDone] = useState(false);
  if (!open) {
    return (
      <>
        {done && (
          <p class="notice" role="status">
            The essay was replaced.
          </p>
        )}
        <button type="button" onClick={() => setOpen(true)}>
          Replace the essay
        </button>
      </>
    );
  }
  const save = async () => {
    if (!draft.preview) {
      setError({ code: "validation_failed", message: "Preview the new essay before replacing." });
      return;
    }
    setBusy(true);
    setError(undefined);
    const result = await replaceEssay(props.seminarId, { text: draft.text, format: draft.format });
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setOpen(false);
    setDone(true);
    await props.onReplaced();
  };
  return (
    <div class="replace-essay">
      <h3>Replace the essay</h3>
      <EssayForm idPrefix="replace-essay" onChange={setDraft} />
      {error && (
        <p class="form-error" role="alert">
          {error.code === "validation_failed"
            ? error.message
            : describeError(error, { conflict: "The essay is frozen once the session has started." })}
        </p>
      )}
      <p class="form-actions">
        <button type="button" class="primary" disabled={busy} onClick={() => void save()}>
          {busy ? "Replacing…" : "Replace with this essay"}
        </button>{" "}
        <button type="button" class="quiet" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </p>
    </div>
  );
}

/** The formats downloaded whole (CSV comes one table at a time). */
const WHOLE_FORMATS = ["json", "md", "jsonld", "zip"] as const satisfies readonly TranscriptFormat[];

const FORMAT_NAMES: Record<(typeof WHOLE_FORMATS)[number], string> = {
  json: "JSON",
  md: "Markdown",
  jsonld: "JSON-LD (Web Annotations)",
  zip: "Everything (ZIP)",
};

/** Transcript downloads (every format, anonymised or not) and the participants' access. */
function Transcripts(props: { room: RoomSnapshot; onChanged: (seminar: RoomSnapshot["seminar"]) => void }) {
  const { seminar } = props.room;
  const [anonymized, setAnonymized] = useState(false);
  const [busy, setBusy] = useState<string | undefined>();
  const [status, setStatus] = useState<string | undefined>();
  const [error, setError] = useState<ErrorBody | undefined>();
  /** The access being saved (shown checked or not until the server answers). */
  const [pending, setPending] = useState<boolean | undefined>();

  const download = async (format: TranscriptFormat, table?: TranscriptTable) => {
    const label = table ? `csv-${table}` : format;
    setBusy(label);
    setError(undefined);
    setStatus(undefined);
    const result = await downloadTranscript(seminar.id, { format, anonymized, table });
    setBusy(undefined);
    if (result.ok) setStatus(`Downloaded ${result.data.filename}.`);
    else setError(result.error);
  };

  const setAccess = async (transcriptAccess: boolean) => {
    setPending(transcriptAccess);
    setError(undefined);
    setStatus(undefined);
    const result = await updateSettings(seminar.id, { transcriptAccess });
    setPending(undefined);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    props.onChanged(result.data);
    setStatus(
      result.data.transcriptAccess
        ? "Participants may now download the transcript."
        : "Only moderators may download the transcript now.",
    );
  };

  return (
    <section class="panel-section transcripts" aria-labelledby="transcripts-head">
      <h2 id="transcripts-head">Transcript</h2>
      <div class="field checkbox">
        <input
          id="transcript-access"
          type="checkbox"
          checked={pending ?? seminar.transcriptAccess}
          disabled={pending !== undefined}
          onChange={(event) => void setAccess(event.currentTarget.checked)}
        />
        <label for="transcript-access">Participants and observers may download the transcript</label>
      </div>
      <div class="field checkbox">
        <input
          id="transcript-anonymized"
          type="checkbox"
          checked={anonymized}
          onChange={(event) => setAnonymized(event.currentTarget.checked)}
        />
        <label for="transcript-anonymized">Anonymised (pseudonyms instead of names, no join code)</label>
      </div>
      <fieldset class="download-buttons">
        <legend>Download</legend>
        {WHOLE_FORMATS.map((format) => (
          <button
            key={format}
            type="button"
            disabled={busy !== undefined}
            onClick={() => void download(format)}
          >
            {busy === format ? "Downloading…" : FORMAT_NAMES[format]}
          </button>
        ))}
        {TRANSCRIPT_TABLES.map((table) => (
          <button
            key={table}
            type="button"
            disabled={busy !== undefined}
            onClick={() => void download("csv", table)}
          >
            {busy === `csv-${table}` ? "Downloading…" : `CSV: ${table}`}
          </button>
        ))}
      </fieldset>
      {status && (
        <p class="notice" role="status">
          {status}
        </p>
      )}
      {error && (
        <p class="form-error" role="alert">
          {describeError(error)}
        </p>
      )}
    </section>
  );
}
