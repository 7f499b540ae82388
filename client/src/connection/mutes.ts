/**
 * Timed mutes run out by themselves: the server sends no event when one ends, so the client
 * reads a member's mute against the clock and re-renders when the next one runs out.
 */
import type { MemberView, RoomSnapshot } from "../../../src/protocol/views.ts";

/** Whether a member is muted at `now` (until unmuted, or until a time still ahead). */
export function isMemberMuted(member: Pick<MemberView, "muted" | "mutedUntil">, now = Date.now()): boolean {
  if (!member.muted) return false;
  return member.mutedUntil === null || Date.parse(member.mutedUntil) > now;
}

/** When the next timed mute of the room runs out (ms since the epoch), or undefined when none will. */
export function nextMuteEnd(room: RoomSnapshot, now = Date.now()): number | undefined {
  let next: number | undefined;
  for (const member of room.members) {
    if (!member.muted || member.mutedUntil === null) continue;
    const end = Date.parse(member.mutedUntil);
    if (end > now && (next === undefined || end < next)) next = end;
  }
  return next;
}
