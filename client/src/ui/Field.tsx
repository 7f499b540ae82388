import type { ComponentChildren } from "preact";

/** What a field's control carries so the label, hint and error reach assistive technology. */
export interface FieldControl {
  id: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
}

/**
 * One labelled form field: the label, the control (rendered by `children` with the ids and
 * states it must carry) and under it either the error (the server's or the schema's message for
 * this field) or the hint.
 */
export function Field(props: {
  id: string;
  label: string;
  error?: string;
  hint?: ComponentChildren;
  class?: string;
  children: (control: FieldControl) => ComponentChildren;
}) {
  const describedBy = props.error ? `${props.id}-error` : props.hint ? `${props.id}-hint` : undefined;
  return (
    <div class={props.class ? `field ${props.class}` : "field"}>
      <label for={props.id}>{props.label}</label>
      {props.children({
        id: props.id,
        "aria-invalid": props.error ? true : undefined,
        "aria-describedby": describedBy,
      })}
      {props.error ? (
        <p class="field-error" id={`${props.id}-error`}>
          {props.label} {props.error}.
        </p>
      ) : (
        props.hint && (
          <p class="hint" id={`${props.id}-hint`}>
            {props.hint}
          </p>
        )
      )}
    </div>
  );
}
