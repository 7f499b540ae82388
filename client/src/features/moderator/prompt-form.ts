/**
 * The prompt form's pure parts: the fields as typed, turning them into a `PromptInput` for the
 * schema, the checks the schema cannot express, and the option labels a prompt will get.
 */
import type { z } from "zod";
import type { ErrorBody } from "../../../../src/protocol/result.ts";
import type { PromptInput, ResultsVisibility } from "../../../../src/protocol/schemas.ts";
import type { PromptKind, PromptView } from "../../../../src/protocol/views.ts";

/** A prompt as the form sends it. */
export type PromptDefinition = z.infer<typeof PromptInput>;

/** What the form holds (strings as typed); turned into a prompt input on submit. */
export interface PromptFields {
  kind: PromptKind;
  question: string;
  options: string;
  maxChoices: string;
  min: string;
  max: string;
  minLabel: string;
  maxLabel: string;
  anonymous: boolean;
  resultsVisibility: z.infer<typeof ResultsVisibility>;
}

export const EMPTY: PromptFields = {
  kind: "single_choice",
  question: "",
  options: "",
  maxChoices: "2",
  min: "1",
  max: "5",
  minLabel: "",
  maxLabel: "",
  anonymous: true,
  resultsVisibility: "live",
};

/**
 * The fields of a stored prompt, for editing it: options one per line; a scale's ends and their
 * labels read back from its first and last option (labelled "<value> <label>" by the server).
 */
export function fieldsOf(prompt: PromptView): PromptFields {
  const fields: PromptFields = {
    ...EMPTY,
    kind: prompt.kind,
    question: prompt.question,
    anonymous: prompt.anonymous,
    resultsVisibility: prompt.resultsVisibility,
  };
  if (prompt.kind !== "scale") {
    return {
      ...fields,
      options: prompt.options.map((option) => option.label).join("\n"),
      maxChoices: String(prompt.kind === "multiple_choice" ? prompt.maxChoices : EMPTY.maxChoices),
    };
  }
  const first = prompt.options[0];
  const last = prompt.options.at(-1);
  const endLabel = (option: PromptView["options"][number] | undefined) => {
    if (!option || option.value === null) return "";
    const prefix = `${option.value} `;
    return option.label.startsWith(prefix) ? option.label.slice(prefix.length) : "";
  };
  return {
    ...fields,
    min: String(first?.value ?? EMPTY.min),
    max: String(last?.value ?? EMPTY.max),
    minLabel: endLabel(first),
    maxLabel: endLabel(last),
  };
}

/** A number as typed, or NaN (which the schema refuses with its own message). */
const number = (value: string) => (value.trim() === "" ? Number.NaN : Number(value));

/** The prompt input of the form's fields, for the schema to judge. */
export function toInput(fields: PromptFields): z.input<typeof PromptInput> {
  const settings = {
    question: fields.question,
    anonymous: fields.anonymous,
    resultsVisibility: fields.resultsVisibility,
  };
  const options = fields.options
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  switch (fields.kind) {
    case "single_choice":
      return { kind: "single_choice", ...settings, options };
    case "multiple_choice":
      return { kind: "multiple_choice", ...settings, options, maxChoices: number(fields.maxChoices) };
    case "scale":
      return {
        kind: "scale",
        ...settings,
        min: number(fields.min),
        max: number(fields.max),
        minLabel: fields.minLabel.trim() || undefined,
        maxLabel: fields.maxLabel.trim() || undefined,
      };
  }
}

/** Checks the schema cannot express: a limit within the options, a scale from low to high. */
export function crossCheck(prompt: PromptDefinition): ErrorBody | undefined {
  const issue = (path: string, message: string): ErrorBody => ({
    code: "validation_failed",
    message: "Please check the highlighted fields.",
    details: [{ path, message }],
  });
  if (prompt.kind === "multiple_choice" && prompt.maxChoices > prompt.options.length)
    return issue("maxChoices", `must be at most the number of options (${prompt.options.length})`);
  if (prompt.kind === "scale" && prompt.max - prompt.min < 1)
    return issue("max", "must be above the lowest value");
  if (prompt.kind === "scale" && prompt.max - prompt.min > 10)
    return issue("max", "allows at most 11 points");
  return undefined;
}

/** The option labels of a prompt input (a scale's points as the server will label them). */
export function optionLabels(prompt: PromptDefinition): string[] {
  if (prompt.kind !== "scale") return prompt.options;
  const labels: string[] = [];
  for (let value = prompt.min; value <= prompt.max; value++) {
    const end = value === prompt.min ? prompt.minLabel : value === prompt.max ? prompt.maxLabel : undefined;
    labels.push(end ? `${value} ${end}` : String(value));
  }
  return labels;
}
