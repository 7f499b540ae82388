/** The end of a small form: its problem (announced), a submit button and a cancel button. */
export function FormEnd(props: { problem: string | null; submit: string; onCancel: () => void }) {
  return (
    <>
      {props.problem && (
        <p class="field-error" role="alert">
          {props.problem}
        </p>
      )}
      <div class="composer-actions">
        <button type="submit" class="primary">
          {props.submit}
        </button>
        <button type="button" class="quiet" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </>
  );
}
