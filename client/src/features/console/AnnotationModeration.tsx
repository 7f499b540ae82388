/**
 * A moderator's controls on one comment or reply: hide or restore, pin or unpin, and remove
 * with a reason (asked for before removing, kept in the moderation log).
 */
import { useState } from "preact/hooks";
import type { AnnotationView } from "../../../../src/protocol/views.ts";
import { excerpt } from "../../ui/text.ts";
import { useCommand } from "./commands.ts";

/** The moderation row of an annotation card. */
export function AnnotationModeration(props: { annotation: AnnotationView; authorName: string }) {
  const run = useCommand();
  const { annotation } = props;
  const [removing, setRemoving] = useState(false);
  const [reason, setReason] = useState("");
  const what = `${props.authorName}'s comment “${excerpt(annotation.body, 30)}”`;
  const payload = { annotationId: annotation.id };
  const reasonId = `remove-reason-${annotation.id}`;

  if (annotation.deleted) return null;
  return (
    <fieldset class="moderation-actions">
      <legend class="sr-only">Moderation</legend>
      {annotation.hidden ? (
        <button
          type="button"
          class="link"
          onClick={() => void run(`Restore ${what}`, "annotation:restore", payload)}
        >
          Restore
        </button>
      ) : (
        <button
          type="button"
          class="link"
          onClick={() => void run(`Hide ${what}`, "annotation:hide", payload)}
        >
          Hide
        </button>
      )}
      {!annotation.parentId &&
        (annotation.pinned ? (
          <button
            type="button"
            class="link"
            onClick={() => void run(`Unpin ${what}`, "annotation:unpin", payload)}
          >
            Unpin
          </button>
        ) : (
          <button
            type="button"
            class="link"
            onClick={() => void run(`Pin ${what}`, "annotation:pin", payload)}
          >
            Pin
          </button>
        ))}
      {removing ? (
        <form
          class="remove-form"
          onSubmit={async (event) => {
            event.preventDefault();
            const trimmed = reason.trim();
            const result = await run(`Remove ${what}`, "annotation:remove", {
              ...payload,
              ...(trimmed ? { reason: trimmed } : {}),
            });
            if (result.ok) setRemoving(false);
          }}
        >
          <label for={reasonId}>Reason for removing (kept in the log, shown to the author)</label>
          <input
            id={reasonId}
            value={reason}
            maxLength={500}
            required
            onInput={(event) => setReason(event.currentTarget.value)}
          />
          <div class="form-end">
            <button type="submit" class="danger">
              Remove
            </button>
            <button type="button" class="quiet" onClick={() => setRemoving(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <button type="button" class="link danger" onClick={() => setRemoving(true)}>
          Remove…
        </button>
      )}
    </fieldset>
  );
}
