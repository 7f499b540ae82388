/**
 * The Log tab: the seminar's moderation log, newest first. The whole log is read page by page
 * from GET /api/seminars/:id/moderation-log when the tab opens; entries made since arrive with
 * the room's moderation events (room state `moderationLog`) and are merged in by id.
 */
import { useEffect, useState } from "preact/hooks";
import type { ModerationLogEntryView, RoomSnapshot } from "../../../../src/protocol/views.ts";
import { accountFetch } from "../../connection/account.ts";
import { excerpt, timeOf } from "../../ui/text.ts";
import { nameOf } from "../annotations/AnnotationCard.tsx";
import { paragraphNumbers } from "../essays/numbering.ts";
import { useRoomState } from "../seminars/room-ui.ts";
import { ROLE_NAMES } from "./Roster.tsx";

/** How each logged command reads. */
const ACTIONS: Record<string, string> = {
  "annotation:hide": "hid a comment",
  "annotation:restore": "restored a comment",
  "annotation:pin": "pinned a comment",
  "annotation:unpin": "unpinned a comment",
  "annotation:remove": "removed a comment",
  "member:mute": "muted",
  "member:unmute": "unmuted",
  "member:kick": "removed",
  "member:ban": "banned",
  "member:unban": "lifted the ban on",
  "member:role": "changed the role of",
  "room:lock": "locked the room",
  "room:unlock": "unlocked the room",
  "room:slow_mode": "set slow mode",
  "room:spotlight": "moved the spotlight",
  "room:phase": "changed the phase",
  "queue:lower": "lowered the hand of",
  "queue:call": "called",
  "queue:clear": "cleared the queue",
};

/** Reads every page of the log. */
async function readWholeLog(seminarId: string) {
  const items: ModerationLogEntryView[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
    const page = await accountFetch<{ items: ModerationLogEntryView[]; nextCursor: string | null }>(
      `/api/seminars/${seminarId}/moderation-log${query}`,
    );
    if (!page.ok) return page;
    items.push(...page.data.items);
    cursor = page.data.nextCursor;
  } while (cursor);
  return { ok: true as const, data: items };
}

/** What an entry's details add ("for 5 min", "to co-moderator", "paragraph 3"). */
function detailsOf(entry: ModerationLogEntryView, room: RoomSnapshot): string {
  const details = entry.details;
  if (!details) return "";
  if (details.to) return ` to ${ROLE_NAMES[details.to].toLowerCase()}`;
  if (details.until !== undefined)
    return details.until ? ` until ${timeOf(details.until)}` : " until unmuted";
  if (details.seconds !== undefined) return details.seconds === 0 ? " off" : ` to ${details.seconds} s`;
  if (details.spotlight !== undefined)
    return details.spotlight
      ? ` to paragraph ${paragraphNumbers(room.essay).get(details.spotlight.paragraphId) ?? "?"}`
      : " off";
  if (details.phase !== undefined) return details.phase ? `: ${details.phase.label}` : ": no phase";
  return "";
}

/** The Log tab. */
export function ModerationLog() {
  const room = useRoomState()!;
  const [loaded, setLoaded] = useState<ModerationLogEntryView[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const seminarId = room.seminar.id;

  const load = async () => {
    setLoading(true);
    const result = await readWholeLog(seminarId);
    setLoading(false);
    if (result.ok) {
      setLoaded(result.data);
      setProblem(null);
    } else setProblem(`The log could not be read: ${result.error.message}`);
  };
  useEffect(() => {
    void load();
  }, [seminarId]);

  const byId = new Map<string, ModerationLogEntryView>();
  for (const entry of [...loaded, ...(room.moderationLog ?? [])]) byId.set(entry.id, entry);
  const entries = [...byId.values()].sort((a, b) =>
    a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1,
  );

  return (
    <section class="moderation-log" aria-labelledby="log-title">
      <div class="threads-head">
        <h2 id="log-title">Moderation log</h2>
        <button type="button" class="link" onClick={() => void load()} disabled={loading}>
          {loading ? "Loading…" : "Reload"}
        </button>
      </div>
      {problem && (
        <p class="field-error" role="alert">
          {problem}
        </p>
      )}
      {entries.length === 0 && !loading && <p class="hint">Nothing moderated yet.</p>}
      <ol class="log-list">
        {entries.map((entry) => {
          const annotation = entry.targetAnnotationId
            ? room.annotations.find((item) => item.id === entry.targetAnnotationId)
            : undefined;
          return (
            <li key={entry.id} class="log-entry" data-action={entry.action}>
              <time dateTime={entry.at}>{timeOf(entry.at)}</time>{" "}
              <span class="log-text">
                <strong>{nameOf(room.members, entry.actorId)}</strong> {ACTIONS[entry.action] ?? entry.action}
                {entry.targetMemberId && <> {nameOf(room.members, entry.targetMemberId)}</>}
                {detailsOf(entry, room)}
                {annotation && !annotation.deleted && <> “{excerpt(annotation.body, 40)}”</>}
              </span>
              {entry.reason && <span class="log-reason">Reason: {entry.reason}</span>}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
