/**
 * Offers a comment on the text the reader selected. Pressing it keeps the selection (the button
 * does not take it away on mouse down), opens the paragraph's threads and starts the comment.
 */
import { excerpt } from "../../ui/text.ts";
import { abilitiesIn, useRoom, useRoomState } from "../seminars/room-ui.ts";

/** The bar shown while there is a selection in the essay. */
export function SelectionBar() {
  const { ui } = useRoom();
  const room = useRoomState()!;
  const span = ui.pendingSpan.value;
  if (!span || !abilitiesIn(room).annotate) return null;
  return (
    <section class="selection-bar" aria-label="Selected text">
      <p class="selection-quote" lang={room.essay.language ?? undefined}>
        “{excerpt(span.exact, 40)}”
      </p>
      <button
        type="button"
        class="primary"
        onMouseDown={(event) => event.preventDefault()}
        onClick={() => {
          ui.pendingSpan.value = null;
          ui.openParagraph(span.paragraphId, span);
        }}
      >
        Comment on selection
      </button>
      <button
        type="button"
        class="quiet"
        onMouseDown={(event) => event.preventDefault()}
        onClick={() => {
          ui.pendingSpan.value = null;
          window.getSelection()?.removeAllRanges();
        }}
      >
        Cancel
      </button>
    </section>
  );
}
