/** The last refused command, with the server's reason and error code, until dismissed. */
import { useRoom } from "../seminars/room-ui.ts";
import { describeRefusal } from "./commands.ts";

/** Shown fixed at the bottom of the console, above the panel on a phone. */
export function RefusalAlert() {
  const { ui } = useRoom();
  const refusal = ui.refusal.value;
  return (
    <div class="refusal-region" role="alert">
      {refusal && (
        <div class="refusal" data-code={refusal.error.code}>
          <p>
            {describeRefusal(refusal.action, refusal.error)}{" "}
            <code class="error-code">{refusal.error.code}</code>
          </p>
          <button type="button" class="quiet" onClick={() => (ui.refusal.value = null)}>
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}
