/**
 * Who is here and roughly where they read: a count in the top bar that opens the list of
 * present members with the paragraph each one is on.
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
  const present = new Map(room.presence.map((entry) => [entry.memberId, entry.paragraphId]));
  const members = room.members.filter((member) => present.has(member.id));
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
        <span>{members.length} here</span>
      </button>
      {open && (
        <div class="presence-popover" id="presence-list">
          <h2>In the room</h2>
          <ul>
            {members.map((member) => {
              const paragraphId = present.get(member.id) ?? null;
              const paragraph = paragraphId
                ? room.essay.paragraphs.find((item) => item.id === paragraphId)
                : undefined;
              return (
                <li key={member.id}>
                  <span class="author">{member.displayName}</span>
                  {member.id === room.viewer.memberId && <span class="badge subtle">You</span>}
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
