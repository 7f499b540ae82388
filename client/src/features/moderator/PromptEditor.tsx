/**
 * Writing a prompt: single choice, multiple choice (with the most options one ballot may pick) or
 * an agreement scale, with when results are shown and whether ballots are anonymous. The input is
 * parsed with the protocol's `PromptInput` before the parent saves it; problems are shown by field.
 */
import { useState } from "preact/hooks";
import type { z } from "zod";
import { LIMITS } from "../../../../src/protocol/limits.ts";
import type { ErrorBody } from "../../../../src/protocol/result.ts";
import { PromptInput, ResultsVisibility } from "../../../../src/protocol/schemas.ts";
import type { PromptKind } from "../../../../src/protocol/views.ts";
import { validationError } from "../../connection/api.ts";
import { Field } from "../../ui/Field.tsx";
import { describeError, fieldErrors } from "../../ui/form-errors.ts";
import { crossCheck, EMPTY, type PromptDefinition, type PromptFields, toInput } from "./prompt-form.ts";

export type { PromptDefinition } from "./prompt-form.ts";

export const KIND_NAMES: Record<PromptKind, string> = {
  single_choice: "Single choice",
  multiple_choice: "Multiple choice",
  scale: "Scale",
};

export const VISIBILITY_NAMES: Record<z.infer<typeof ResultsVisibility>, string> = {
  live: "Live, as votes come in",
  after_close: "After the question closes",
  moderators: "Moderators only (reveal later)",
};

const KINDS: PromptKind[] = ["single_choice", "multiple_choice", "scale"];

/**
 * The prompt form. `onSave` stores the prompt (in the create form's list, or on the server) and
 * answers with the server's refusal, if any. A new question's form clears after a save; with
 * `editing` (the stored prompt's fields) it changes that question, and `onCancel` closes it.
 */
export function PromptEditor(props: {
  idPrefix: string;
  onSave: (prompt: PromptDefinition) => Promise<ErrorBody | undefined>;
  editing?: PromptFields;
  onCancel?: () => void;
}) {
  const editing = props.editing !== undefined;
  const [fields, setFields] = useState<PromptFields>(props.editing ?? EMPTY);
  const [error, setError] = useState<ErrorBody | undefined>();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | undefined>();
  const errors = fieldErrors(error);
  const id = (name: string) => `${props.idPrefix}-${name}`;
  const set = <K extends keyof PromptFields>(name: K, value: PromptFields[K]) =>
    setFields((current) => ({ ...current, [name]: value }));
  const form: FormBinding = { id, fields, set, errors };
  const optionsError =
    errors.options ?? Object.entries(errors).find(([path]) => path.startsWith("options."))?.[1];

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setSaved(undefined);
    const parsed = PromptInput.safeParse(toInput(fields));
    if (!parsed.success) {
      setError(validationError(parsed.error));
      return;
    }
    const refused = crossCheck(parsed.data);
    if (refused) {
      setError(refused);
      return;
    }
    setBusy(true);
    setError(undefined);
    const problem = await props.onSave(parsed.data);
    setBusy(false);
    if (problem) {
      setError(problem);
      return;
    }
    if (editing) return;
    setSaved(`Added “${parsed.data.question}”.`);
    setFields({ ...EMPTY, kind: fields.kind, resultsVisibility: fields.resultsVisibility });
  };

  return (
    <form class="prompt-editor" onSubmit={submit} noValidate aria-labelledby={id("title")}>
      <h3 id={id("title")}>{editing ? "Edit the question" : "Write a question"}</h3>
      <fieldset class="kind-choice">
        <legend>Kind</legend>
        {KINDS.map((kind) => (
          <label key={kind} class="radio">
            <input
              type="radio"
              name={id("kind")}
              value={kind}
              checked={fields.kind === kind}
              onChange={() => set("kind", kind)}
            />{" "}
            {KIND_NAMES[kind]}
          </label>
        ))}
      </fieldset>
      <TextField form={form} name="question" label="Question" maxLength={LIMITS.promptQuestion.max} />
      {fields.kind !== "scale" && (
        <Field
          id={id("options")}
          label="Options"
          error={optionsError}
          hint={`One per line, ${LIMITS.promptOptions.min} to ${LIMITS.promptOptions.max}.`}
        >
          {(control) => (
            <textarea
              {...control}
              rows={4}
              value={fields.options}
              onInput={(event) => set("options", event.currentTarget.value)}
            />
          )}
        </Field>
      )}
      {fields.kind === "multiple_choice" && (
        <NumberField
          form={form}
          name="maxChoices"
          label="Most options per ballot"
          min={1}
          max={LIMITS.promptOptions.max}
        />
      )}
      {fields.kind === "scale" && (
        <div class="scale-fields">
          <NumberField form={form} name="min" label="Lowest value" min={-10} max={10} />
          <TextField
            form={form}
            name="minLabel"
            label="Label of the lowest"
            placeholder="Disagree"
            maxLength={LIMITS.promptOptionLabel.max}
          />
          <NumberField form={form} name="max" label="Highest value" min={-10} max={10} />
          <TextField
            form={form}
            name="maxLabel"
            label="Label of the highest"
            placeholder="Agree"
            maxLength={LIMITS.promptOptionLabel.max}
          />
        </div>
      )}
      <Field id={id("visibility")} label="Results shown to participants" error={errors.resultsVisibility}>
        {(control) => (
          <select
            {...control}
            value={fields.resultsVisibility}
            onChange={(event) =>
              set("resultsVisibility", ResultsVisibility.catch("live").parse(event.currentTarget.value))
            }
          >
            {ResultsVisibility.options.map((value) => (
              <option key={value} value={value}>
                {VISIBILITY_NAMES[value]}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div class="field checkbox">
        <input
          id={id("anonymous")}
          type="checkbox"
          checked={fields.anonymous}
          onChange={(event) => set("anonymous", event.currentTarget.checked)}
        />
        <label for={id("anonymous")}>Anonymous ballots (untick: moderators see who voted for what)</label>
      </div>
      {error && <Refusal error={error} />}
      {saved && (
        <p class="notice" role="status">
          {saved}
        </p>
      )}
      <p class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {editing ? (busy ? "Saving…" : "Save changes") : busy ? "Adding…" : "Add question"}
        </button>
        {props.onCancel && (
          <>
            {" "}
            <button type="button" class="quiet" onClick={props.onCancel}>
              Cancel
            </button>
          </>
        )}
      </p>
    </form>
  );
}

/** A refusal of the form: the sentence for its code, and the code itself. */
export function Refusal(props: { error: ErrorBody }) {
  return (
    <p class="form-error" role="alert" data-code={props.error.code}>
      {describeError(props.error)} <code class="error-code">{props.error.code}</code>
    </p>
  );
}

/** What each field of the form reads and writes: ids, values, the setter and the problems by field. */
interface FormBinding {
  id: (name: string) => string;
  fields: PromptFields;
  set: <K extends keyof PromptFields>(name: K, value: PromptFields[K]) => void;
  errors: Record<string, string>;
}

/** The fields typed as free text or as numbers (strings as typed, parsed on submit). */
type TypedField = "question" | "minLabel" | "maxLabel" | "maxChoices" | "min" | "max";

/** A field's element id: its name in kebab case (maxChoices -> max-choices). */
const idOf = (form: FormBinding, name: TypedField) =>
  form.id(name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`));

/** A one-line text field of the form; its problems are the schema's for the same name. */
function TextField(props: {
  form: FormBinding;
  name: "question" | "minLabel" | "maxLabel";
  label: string;
  maxLength: number;
  placeholder?: string;
}) {
  const { form, name } = props;
  return (
    <Field id={idOf(form, name)} label={props.label} error={form.errors[name]}>
      {(control) => (
        <input
          {...control}
          value={form.fields[name]}
          placeholder={props.placeholder}
          maxLength={props.maxLength}
          onInput={(event) => form.set(name, event.currentTarget.value)}
        />
      )}
    </Field>
  );
}

/** A whole-number field of the form (kept as typed; the schema judges it on submit). */
function NumberField(props: {
  form: FormBinding;
  name: "maxChoices" | "min" | "max";
  label: string;
  min: number;
  max: number;
}) {
  const { form, name } = props;
  return (
    <Field id={idOf(form, name)} label={props.label} error={form.errors[name]}>
      {(control) => (
        <input
          {...control}
          type="number"
          inputMode="numeric"
          min={props.min}
          max={props.max}
          value={form.fields[name]}
          onInput={(event) => form.set(name, event.currentTarget.value)}
        />
      )}
    </Field>
  );
}

/** One prompt in a list, however it is stored: kind, question, options and settings. */
export function PromptSummary(props: {
  prompt: {
    kind: PromptKind;
    question: string;
    options: string[];
    maxChoices?: number;
    anonymous: boolean;
    resultsVisibility: z.infer<typeof ResultsVisibility>;
  };
}) {
  const { prompt } = props;
  return (
    <>
      <p class="prompt-question">
        <span class="badge subtle">{KIND_NAMES[prompt.kind]}</span> {prompt.question}
      </p>
      <p class="prompt-options">{prompt.options.join(" · ")}</p>
      <p class="hint">
        {prompt.kind === "multiple_choice" && prompt.maxChoices ? `Up to ${prompt.maxChoices} choices. ` : ""}
        {prompt.anonymous ? "Anonymous" : "Named"}; results: {VISIBILITY_NAMES[prompt.resultsVisibility]}.
      </p>
    </>
  );
}
