/**
 * The rights table applied inside a write: every room write asks it with the acting member as
 * the write read them under the room's lock (role, status and mute as stored now).
 */
import { fail } from "../../errors.ts";
import type { ActedRoom } from "../../realtime/room-writer.ts";
import type { Actor } from "../seminars/seminars.policy.ts";
import { holderOf, type RightName, refusalOf, roleRefusal } from "./moderation.policy.ts";

/**
 * Throws the rights table's refusal (forbidden, room_closed or conflict, with details) unless the
 * acting member may use `right` in this room now.
 */
export function assertRight(right: RightName, room: ActedRoom): void {
  const refusal = refusalOf(right, holderOf(room.member), room.state);
  if (refusal) throw fail.refused(refusal);
}

/**
 * Throws the rights table's refusal when the actor's role (as their connection was admitted) does
 * not hold `right` at all: a fast refusal before any read; the write checks again as stored.
 */
export function assertRole(right: RightName, actor: Actor): void {
  const refusal = roleRefusal(right, actor.role);
  if (refusal) throw fail.refused(refusal);
}
