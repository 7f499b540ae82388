import type { AppContext } from "../context.ts";
import { AUDIENCE_VIEWERS, type Viewer } from "../modules/seminars/seminars.policy.ts";
import type { CloseReason, ClosingView } from "../protocol/events.ts";
import { LIMITS } from "../protocol/limits.ts";
import type { RoomStreamEvent, TallyView } from "../protocol/views.ts";
import { compactOmitted, presentForRoom, privilegedMembers } from "./presenters.ts";
import type { StoredEvent } from "./room-facts.ts";
import { loadReferencedMembers, loadSubjects, type Subjects } from "./subjects.ts";
import type { TypedServer } from "./types.ts";

/** Room names: everyone in a seminar, its moderators, its other members, one member's sockets. */
export const roomOf = {
  seminar: (seminarId: string) => `seminar:${seminarId}`,
  moderators: (seminarId: string) => `seminar:${seminarId}:moderators`,
  participants: (seminarId: string) => `seminar:${seminarId}:participants`,
  member: (memberId: string) => `member:${memberId}`,
};

/** Events presented for each audience, and for members who see them differently (authors). */
interface Presented {
  moderators: RoomStreamEvent[];
  participants: RoomStreamEvent[];
  personal: Map<string, RoomStreamEvent[]>;
}

/** The messages a sentence names a reason with (connection:closing). */
const CLOSING_MESSAGES: Record<CloseReason, string> = {
  token_expired: "Your session token expired; sign in or rejoin to continue.",
  kicked: "A moderator removed you from this seminar. You may join again with the code.",
  banned: "A moderator banned you from this seminar.",
  rights_changed: "Your role in this seminar changed; reconnecting.",
  session_ended: "The session has ended; the room is read-only.",
  shutting_down: "This server is restarting; reconnecting to another one.",
  flooding: "This connection sent too much too fast and was closed; reconnecting.",
};

/**
 * The one place that emits to clients. Room events are presented per viewer by the event
 * presenters (presenters.ts): each audience room gets its generic view, and a member who sees an
 * event differently (the author of an annotation now hidden) gets their own copy instead.
 * member:joined facts wait up to membershipBatchMs and leave together as one room:events message
 * (a join storm would otherwise cost N² messages); any other event flushes them first, in order.
 * Participants and observers get a guest's arrival as part of one room:omitted range per message
 * (presentForRoom): the roster is the moderators'.
 */
export class Notifier {
  private readonly pending = new Map<string, { presented: Presented; timer: NodeJS.Timeout }>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly io: TypedServer,
    private readonly context: AppContext,
  ) {}

  /**
   * Presents committed events (with the rows the write left behind) and sends them, in order.
   * Never rejects: the events are stored, and a client that misses them fills the gap with room:sync.
   */
  async publishEvents(seminarId: string, events: StoredEvent[], known: Subjects): Promise<void> {
    try {
      await this.publishNow(seminarId, events, known);
    } catch (error) {
      this.context.logger.error({ err: error, seminar: seminarId }, "publishing room events failed");
    }
  }

  private async publishNow(seminarId: string, events: StoredEvent[], known: Subjects): Promise<void> {
    for (const event of events) this.context.metrics.roomEvents.inc({ type: event.type });
    const loaded = await loadSubjects(this.context.prisma, seminarId, events, known);
    const subjects = await loadReferencedMembers(this.context.prisma, seminarId, events, loaded);
    const presented = this.present(events, subjects);
    if (events.every((event) => event.type === "member:joined")) {
      const batch = this.pending.get(seminarId);
      if (batch) {
        append(batch.presented, presented);
      } else {
        const timer = setTimeout(() => this.flush(seminarId), LIMITS.membershipBatchMs);
        this.pending.set(seminarId, { presented, timer });
      }
      return;
    }
    const waiting = this.take(seminarId);
    if (waiting) {
      append(waiting, presented);
      this.emit(seminarId, waiting);
    } else {
      this.emit(seminarId, presented);
    }
  }

  /** How many sockets of this node are in a seminar's room. */
  audienceSize(seminarId: string): number {
    return this.io.sockets.adapter.rooms.get(roomOf.seminar(seminarId))?.size ?? 0;
  }

  /** Sends a tally to the sockets allowed to see it. */
  publishTally(
    seminarId: string,
    audience: "everyone" | "moderators" | "participants",
    tally: TallyView,
  ): void {
    const target =
      audience === "moderators"
        ? roomOf.moderators(seminarId)
        : audience === "participants"
          ? roomOf.participants(seminarId)
          : roomOf.seminar(seminarId);
    this.io.to(target).emit("tally:update", tally);
  }

  /** Sends a tally to one member's sockets. */
  publishTallyTo(memberId: string, tally: TallyView): void {
    this.io.to(roomOf.member(memberId)).emit("tally:update", tally);
  }

  /**
   * Tells a member's sockets (on every node, through the adapter) why they are being closed, then
   * closes them. The reason goes first on the same connection, so it arrives before the close.
   */
  closeMember(memberId: string, reason: CloseReason): void {
    this.closeRoom(roomOf.member(memberId), reason);
  }

  /** The same for every socket of a room (`roomOf.*`). */
  closeRoom(room: string, reason: CloseReason): void {
    this.context.logger.info({ room, reason }, "closing sockets");
    this.io.to(room).emit("connection:closing", { reason, message: CLOSING_MESSAGES[reason] });
    this.io.in(room).disconnectSockets(false);
  }

  /** The closing message for one socket (this node). */
  closingMessage(reason: CloseReason): ClosingView {
    return { reason, message: CLOSING_MESSAGES[reason] };
  }

  /** closeRoom after `delayMs` (a timer of this node; a restart forgets it). */
  closeRoomLater(room: string, reason: CloseReason, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.closeRoom(room, reason);
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** Rooms with member:joined facts waiting, and room closes scheduled (closeRoomLater). */
  retained(): { batches: number; closes: number } {
    return { batches: this.pending.size, closes: this.timers.size };
  }

  /** Sends what is waiting and forgets scheduled closes (at shutdown). */
  flushAll(): void {
    for (const seminarId of [...this.pending.keys()]) this.flush(seminarId);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private present(events: StoredEvent[], subjects: Subjects): Presented {
    const publicUrl = this.context.publicUrl();
    const as = (viewer: Viewer) =>
      events.map((event) => presentForRoom(event, { viewer, subjects, publicUrl }));
    const personal = new Map<string, RoomStreamEvent[]>();
    for (const memberId of new Set(events.flatMap((event) => privilegedMembers(event, subjects)))) {
      personal.set(memberId, as({ memberId, moderator: false, anonymized: false }));
    }
    return {
      moderators: as(AUDIENCE_VIEWERS.moderators),
      participants: as(AUDIENCE_VIEWERS.participants),
      personal,
    };
  }

  private take(seminarId: string): Presented | undefined {
    const batch = this.pending.get(seminarId);
    if (!batch) return undefined;
    this.pending.delete(seminarId);
    clearTimeout(batch.timer);
    return batch.presented;
  }

  private flush(seminarId: string): void {
    const presented = this.take(seminarId);
    if (presented) this.emit(seminarId, presented);
  }

  private emit(seminarId: string, presented: Presented): void {
    const send = (target: ReturnType<TypedServer["to"]>, entries: RoomStreamEvent[]) => {
      const views = compactOmitted(entries);
      if (views.length === 1) target.emit("room:event", views[0]!);
      else if (views.length > 1) target.emit("room:events", views);
    };
    send(this.io.to(roomOf.moderators(seminarId)), presented.moderators);
    const exceptions = [...presented.personal.keys()].map(roomOf.member);
    send(this.io.to(roomOf.participants(seminarId)).except(exceptions), presented.participants);
    // A moderator who wrote the annotation is served by the moderators' view above.
    for (const [memberId, views] of presented.personal) {
      send(this.io.to(roomOf.member(memberId)).except(roomOf.moderators(seminarId)), views);
    }
  }
}

/**
 * Adds `more` after `batch`. A member with a personal view of the new events gets the generic
 * participants' view of what was already waiting, then their own.
 */
function append(batch: Presented, more: Presented): void {
  for (const [memberId, views] of more.personal) {
    const earlier = batch.personal.get(memberId) ?? [...batch.participants];
    batch.personal.set(memberId, [...earlier, ...views]);
  }
  for (const [memberId, views] of batch.personal) {
    if (!more.personal.has(memberId)) views.push(...more.participants);
  }
  batch.moderators.push(...more.moderators);
  batch.participants.push(...more.participants);
}
