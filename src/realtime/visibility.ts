import type { MemberRole, RoomEventView } from "../protocol/views.ts";

/** Who an event is presented to: the two audiences of a room. */
export type Audience = "moderators" | "participants";

/** The audience of a role. */
export function audienceOf(role: MemberRole): Audience {
  return role === "host" || role === "co_moderator" ? "moderators" : "participants";
}

/**
 * The one visibility rule for room events, used for live delivery and for catch-up alike (and by
 * transcripts): the log stores each event as its fullest audience may see it, and this function
 * removes what another audience may not. Hidden annotations reach participants as tombstone-like
 * placeholders; everything else is the same for both audiences today.
 */
export function presentEventFor(event: RoomEventView, audience: Audience): RoomEventView {
  if (audience === "moderators") return event;
  if ("annotation" in event.data && event.data.annotation.hidden) {
    return {
      ...event,
      data: { ...event.data, annotation: { ...event.data.annotation, body: "", tags: [] } },
    } as RoomEventView;
  }
  return event;
}
