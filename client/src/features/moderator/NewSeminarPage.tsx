/**
 * `/seminars/new`: a seminar from a pasted or uploaded essay. The importer's preview must be of
 * the text being saved; questions are written here too and saved with the seminar (all in one
 * POST /api/seminars). The new draft opens on its seminar page, where it is started.
 */
import { useEffect, useState } from "preact/hooks";
import { LIMITS } from "../../../../src/protocol/limits.ts";
import type { ErrorBody } from "../../../../src/protocol/result.ts";
import { createSeminar } from "../../connection/moderator-api.ts";
import { navigate } from "../../router.ts";
import { Field } from "../../ui/Field.tsx";
import { describeError, fieldErrors, problemList } from "../../ui/form-errors.ts";
import { type EssayDraft, EssayForm } from "./EssayForm.tsx";
import { ModeratorShell } from "./ModeratorShell.tsx";
import { PromptEditor, PromptSummary } from "./PromptEditor.tsx";
import { optionLabels, type PromptDefinition } from "./prompt-form.ts";

export function NewSeminarPage() {
  const [title, setTitle] = useState("");
  const [titleTouched, setTitleTouched] = useState(false);
  const [essay, setEssay] = useState<EssayDraft>({ text: "", format: "auto", preview: undefined });
  const [prompts, setPrompts] = useState<PromptDefinition[]>([]);
  const [error, setError] = useState<ErrorBody | undefined>();
  const [busy, setBusy] = useState(false);
  const fields = fieldErrors(error);

  useEffect(() => {
    document.title = "New seminar · Stepstone";
  }, []);

  const essayChanged = (draft: EssayDraft) => {
    setEssay(draft);
    // The detected title is the seminar's title until the moderator writes their own.
    if (draft.preview && !titleTouched) setTitle(draft.preview.title);
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    if (!essay.preview) {
      setError({
        code: "validation_failed",
        message: "Preview the essay before saving.",
        details: [{ path: "essay", message: "must be previewed before saving" }],
      });
      return;
    }
    setBusy(true);
    setError(undefined);
    const result = await createSeminar({
      title,
      essay: { text: essay.text, format: essay.format },
      prompts,
    });
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    navigate({ page: "seminar", seminarId: result.data.id });
  };

  const essayProblem = fields.essay ?? fields["essay.text"];
  return (
    <ModeratorShell title="New seminar" wide>
      <section class="panel-section" aria-labelledby="essay-title">
        <h2 id="essay-title">1. The essay</h2>
        <EssayForm idPrefix="new-essay" onChange={essayChanged} />
      </section>
      <section class="panel-section" aria-labelledby="prompts-title">
        <h2 id="prompts-title">2. Questions ({prompts.length})</h2>
        <p class="hint">Optional. They stay closed until you open them in the live console.</p>
        {prompts.length > 0 && (
          <ol class="prompt-drafts">
            {prompts.map((prompt, index) => (
              <li key={`${index}-${prompt.question}`}>
                <PromptSummary prompt={{ ...prompt, options: optionLabels(prompt) }} />
                <button
                  type="button"
                  class="link danger"
                  onClick={() => setPrompts(prompts.filter((_, at) => at !== index))}
                >
                  Remove<span class="sr-only"> “{prompt.question}”</span>
                </button>
              </li>
            ))}
          </ol>
        )}
        {prompts.length < LIMITS.promptsPerSeminar && (
          <PromptEditor
            idPrefix="new-prompt"
            onSave={async (prompt) => {
              setPrompts((current) => [...current, prompt]);
              return undefined;
            }}
          />
        )}
      </section>
      <section class="panel-section" aria-labelledby="save-title">
        <h2 id="save-title">3. Save</h2>
        <form onSubmit={submit} noValidate>
          <Field
            id="new-title"
            label="Seminar title"
            error={fields.title}
            hint="Taken from the essay's title until you change it."
          >
            {(control) => (
              <input
                {...control}
                value={title}
                maxLength={LIMITS.seminarTitle.max}
                onInput={(event) => {
                  setTitleTouched(true);
                  setTitle(event.currentTarget.value);
                }}
              />
            )}
          </Field>
          {essayProblem && (
            <p class="field-error" role="alert">
              The essay {essayProblem}.
            </p>
          )}
          {error && !essayProblem && (
            <div class="form-error" role="alert">
              <p>{describeError(error)}</p>
              {!fields.title && problemList(error).length > 0 && (
                <ul>
                  {problemList(error).map((line) => (
                    <li key={line}>{line}</li>
                  ))}
                </ul>
              )}
            </div>
          )}
          <button type="submit" class="primary" disabled={busy}>
            {busy ? "Saving…" : "Save as draft"}
          </button>
        </form>
      </section>
    </ModeratorShell>
  );
}
