/**
 * Presence as counts: how many read each paragraph. A presence list names everyone present in a
 * small room; in a large one a participant's names only the moderators and the rest are counted
 * (RoomSnapshot.presenceSummary, right in both cases), so these read the counts.
 */
import type { ParagraphView, RoomSnapshot } from "../../../../src/protocol/views.ts";

/** What the counts read of a room state. */
export type PresenceState = Pick<RoomSnapshot, "presence" | "presenceSummary"> & {
  viewer: Pick<RoomSnapshot["viewer"], "memberId">;
  essay: { paragraphs: ParagraphView[] };
};

/** Present members per paragraph id, as the summary counts them. */
function readingCounts(room: PresenceState): Map<string, number> {
  return new Map(room.presenceSummary.reading.map(({ paragraphId, count }) => [paragraphId, count]));
}

/**
 * How many others read each paragraph now: the room's counts, less the viewer where they are
 * counted. The viewer's entry is in the presence list when it names everyone (and always for a
 * moderator); in a large room a participant is only counted, at the paragraph where the presence
 * the client holds counts them (`countedFocus`: the report the server had acknowledged when that
 * presence arrived, not a newer one it may not have counted yet).
 */
export function readersByParagraph(room: PresenceState, countedFocus: string | null): Map<string, number> {
  const counts = readingCounts(room);
  const own = room.presence.find((entry) => entry.memberId === room.viewer.memberId);
  const ownParagraph = own ? own.paragraphId : room.presenceSummary.complete ? null : countedFocus;
  const counted = ownParagraph ? counts.get(ownParagraph) : undefined;
  // The counts may not hold the viewer there yet (a presence sent before the report reached them).
  if (ownParagraph && counted !== undefined) counts.set(ownParagraph, Math.max(0, counted - 1));
  return counts;
}

/** How many read each block of the essay that someone reads (the viewer too), in essay order. */
export function readingInEssay(room: PresenceState): { paragraph: ParagraphView; count: number }[] {
  const counts = readingCounts(room);
  return room.essay.paragraphs.flatMap((paragraph) => {
    const count = counts.get(paragraph.id) ?? 0;
    return count > 0 ? [{ paragraph, count }] : [];
  });
}

/** Present members the presence list does not name (0 when it names everyone). */
export function unlistedPresent(room: PresenceState): number {
  return room.presenceSummary.complete ? 0 : Math.max(0, room.presenceSummary.present - room.presence.length);
}
