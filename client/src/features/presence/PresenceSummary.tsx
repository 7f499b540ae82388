/**
 * Who is here and roughly where they read: a count in the top bar that opens the list of
 * present members with the paragraph each one is on. Presence carries the names (a participant's
 * state holds only the members it refers to, not the roster). In a large room a participant's
 * presence names only the moderators: the rest are shown as how many, and how many read where.
 */
import { useState } from "preact/hooks";
import type { ParagraphView } from "../../../../src/protocol/views.ts";
import { PersonIcon } from "../../ui/icons.tsx";
import { excerpt } from "../../ui/text.ts";
import { paragraphNumbers } from "../essays/numbering.ts";
import { useRoom, useRoomState } from "../seminars/room-ui.ts";
import { readingInEssay, unlistedPresent } from "./counts.ts";

/** The presence button and its list. */
export function PresenceSummary() {
  const { ui } = useRoom();
  const room = useRoomState()!;
  const [open, setOpen] = useState(false);
  const present = [...room.presence].sort((a, b) => a.displayName.localeCompare(b.displayName));
  const summary = room.presenceSummary;
  const numbers = paragraphNumbers(room.essay);
  const paragraphOf = (id: string | null) =>
    id ? room.essay.paragraphs.find((item) => item.id === id) : undefined;
  /** "¶3 “excerpt…”" (blocks without a number, such as headings, by their excerpt alone). */
  const label = (paragraph: ParagraphView) => {
    const number = numbers.get(paragraph.id);
    return `${number ? `¶${number} ` : ""}“${excerpt(paragraph.text, 24)}”`;
  };
  const goTo = (paragraph: ParagraphView) => {
    ui.following.value = false;
    document.getElementById(`p-${paragraph.id}`)?.scrollIntoView({ block: "center" });
    setOpen(false);
  };
  const others = unlistedPresent(room);
  const youUnlisted = !room.presence.some((entry) => entry.memberId === room.viewer.memberId);
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
        <span>{summary.present.toLocaleString()} here</span>
      </button>
      {open && (
        <div class="presence-popover" id="presence-list">
          <h2>In the room</h2>
          {!summary.complete && (
            <p class="hint">
              {present.length > 0
                ? "Too many to list: the moderators are named, everyone else counted."
                : "Too many to list, and no moderator is here."}
            </p>
          )}
          {present.length > 0 && (
            <ul>
              {present.map((entry) => {
                const paragraph = paragraphOf(entry.paragraphId);
                return (
                  <li key={entry.memberId}>
                    <span class="author">{entry.displayName}</span>
                    {entry.memberId === room.viewer.memberId && <span class="badge subtle">You</span>}
                    {paragraph && (
                      <button type="button" class="link" onClick={() => goTo(paragraph)}>
                        reading {label(paragraph)}
                      </button>
                    )}
                  </li>
                );
              })}
            </ul>
          )}
          {others > 0 && (
            <p class="presence-others">
              {present.length > 0 ? "and " : ""}
              {youUnlisted && others === 1
                ? "you"
                : `${others.toLocaleString()} ${present.length > 0 ? "others" : "people"}${youUnlisted ? ", you among them" : ""}`}
            </p>
          )}
          {!summary.complete && <ReadingCounts reading={readingInEssay(room)} label={label} goTo={goTo} />}
        </div>
      )}
    </div>
  );
}

/** How many read where, for a room too large to list (each entry goes to its paragraph). */
function ReadingCounts(props: {
  reading: { paragraph: ParagraphView; count: number }[];
  label: (paragraph: ParagraphView) => string;
  goTo: (paragraph: ParagraphView) => void;
}) {
  return (
    <>
      <h3 id="presence-reading-title">Reading now</h3>
      {props.reading.length === 0 ? (
        <p class="hint">Nobody has settled on a paragraph yet.</p>
      ) : (
        <ul class="presence-reading" aria-labelledby="presence-reading-title">
          {props.reading.map(({ paragraph, count }) => (
            <li key={paragraph.id}>
              <button type="button" class="link" onClick={() => props.goTo(paragraph)}>
                {props.label(paragraph)}: {count.toLocaleString()} reading
              </button>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
