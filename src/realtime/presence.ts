import type { PresenceDelta } from "../protocol/events.ts";
import type { PresenceView } from "../protocol/views.ts";

interface MemberPresence {
  sockets: Set<string>;
  paragraphId: string | null;
}

interface RoomPresence {
  members: Map<string, MemberPresence>;
  pending: { joined: Set<string>; left: Set<string>; focus: Set<string> };
}

/**
 * Who is connected to each room on this node and what they read. Ephemeral (not in the event
 * log). Changes are coalesced and flushed per room every `flushMs`, so a room of hundreds of
 * scrolling readers sends one small delta per interval instead of a message per scroll.
 */
export class Presence {
  private readonly rooms = new Map<string, RoomPresence>();
  private readonly dirty = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly emit: (seminarId: string, delta: PresenceDelta) => void,
    flushMs: number,
  ) {
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref();
  }

  private room(seminarId: string): RoomPresence {
    let room = this.rooms.get(seminarId);
    if (!room) {
      room = { members: new Map(), pending: { joined: new Set(), left: new Set(), focus: new Set() } };
      this.rooms.set(seminarId, room);
    }
    return room;
  }

  /** A socket of `memberId` connected. */
  connect(seminarId: string, memberId: string, socketId: string): void {
    const room = this.room(seminarId);
    let member = room.members.get(memberId);
    if (!member) {
      member = { sockets: new Set(), paragraphId: null };
      room.members.set(memberId, member);
      room.pending.left.delete(memberId);
      room.pending.joined.add(memberId);
      this.dirty.add(seminarId);
    }
    member.sockets.add(socketId);
  }

  /** A socket disconnected; the member leaves when it was their last. */
  disconnect(seminarId: string, memberId: string, socketId: string): void {
    const room = this.rooms.get(seminarId);
    const member = room?.members.get(memberId);
    if (!room || !member) return;
    member.sockets.delete(socketId);
    if (member.sockets.size > 0) return;
    room.members.delete(memberId);
    room.pending.focus.delete(memberId);
    if (room.pending.joined.has(memberId)) room.pending.joined.delete(memberId);
    else room.pending.left.add(memberId);
    this.dirty.add(seminarId);
  }

  /** Number of sockets `memberId` holds in the room on this node. */
  socketCount(seminarId: string, memberId: string): number {
    return this.rooms.get(seminarId)?.members.get(memberId)?.sockets.size ?? 0;
  }

  /** The member reads `paragraphId` now. */
  focus(seminarId: string, memberId: string, paragraphId: string | null): void {
    const room = this.rooms.get(seminarId);
    const member = room?.members.get(memberId);
    if (!room || !member || member.paragraphId === paragraphId) return;
    member.paragraphId = paragraphId;
    room.pending.focus.add(memberId);
    this.dirty.add(seminarId);
  }

  /** Everyone connected to the room now. */
  list(seminarId: string): PresenceView[] {
    const room = this.rooms.get(seminarId);
    if (!room) return [];
    return [...room.members].map(([memberId, member]) => ({ memberId, paragraphId: member.paragraphId }));
  }

  /** Sends the pending deltas of every changed room. */
  flush(): void {
    for (const seminarId of this.dirty) {
      const room = this.rooms.get(seminarId);
      if (!room) continue;
      const view = (memberId: string): PresenceView => ({
        memberId,
        paragraphId: room.members.get(memberId)?.paragraphId ?? null,
      });
      const delta: PresenceDelta = {
        joined: [...room.pending.joined].map(view),
        left: [...room.pending.left],
        focus: [...room.pending.focus].filter((id) => !room.pending.joined.has(id)).map(view),
      };
      room.pending = { joined: new Set(), left: new Set(), focus: new Set() };
      if (room.members.size === 0) this.rooms.delete(seminarId);
      this.emit(seminarId, delta);
    }
    this.dirty.clear();
  }

  /** Stops the flush timer. */
  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
