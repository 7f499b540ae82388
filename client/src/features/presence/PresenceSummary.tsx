/**
 * Who is here and roughly where they read: a count in the top bar that opens the list of
 * present members with the paragraph each one is on. Presence carries the names (a participant's
 * state holds only the members it refers to, not the roster).
 */
import { useState } from "preact/hooks";
import { PersonIcon } from "../../ui/icons.tsx";
import { excerpt } from "../../ui/text.ts";
import { paragraphNumbers } from "../essays/numbering.ts";
import { useRoom, useRoomState } from "../seminars/room-ui.ts";

/** The presence button and its list. */
export function PresenceSummary() {
  const { ui } = useRoom();
  const room = useRoomState()!;
  const [open, setOpen] = useState(false);
  const present = [...room.presence].sort((a, b) => a.displayName.localeCompare(b.displayName));
  const numbers = paragraphNumbers(room.essay);
  return (
    <div class="presence">
      <button
        type="button"
        class="quiet"
        aria-expanded={open}
        aria-controls="presence-list"
        onClick={() => setOpen(!open)}
      >
        <PersonIcon />
        <span>{present.length} here</span>
      </button>
      {open && (
        <div class="presence-popover" id="presence-list">
          <h2>In the room</h2>
          <ul>
            {present.map((entry) => {
              const paragraph = entry.paragraphId
                ? room.essay.paragraphs.find((item) => item.id === entry.paragraphId)
                : undefined;
              return (
                <li key={entry.memberId}>
                  <span class="author">{entry.displayName}</span>
                  {entry.memberId === room.viewer.memberId && <span class="badge subtle">You</span>}
                  {paragraph && (
                    <button
                      type="button"
                      class="link"
                      onClick={() => {
                        ui.following.value = false;
                        document.getElementById(`p-${paragraph.id}`)?.scrollIntoView({ block: "center" });
                        setOpen(false);
                      }}
                    >
                      reading ¶{numbers.get(paragraph.id) ?? ""} “{excerpt(paragraph.text, 24)}”
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </div>
  );
}
