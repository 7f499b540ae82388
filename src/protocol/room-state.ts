/**
 * The client side of the room stream: applies events in sequence order to a snapshot, drops
 * duplicates, holds early arrivals and reports gaps. The web client and the tests use it, so both
 * hold the room exactly as the server's log says. No Node, Express or Prisma imports here.
 */
import type { PresenceDelta } from "./events.ts";
import type {
  AnnotationView,
  MemberView,
  RoomEventView,
  RoomSnapshot,
  SyncView,
  TallyView,
} from "./views.ts";

/** Applies one event to a room state (in place). Unknown event types are ignored. */
export function applyRoomEvent(state: RoomSnapshot, event: RoomEventView): void {
  state.seq = event.seq;
  // A moderator's state keeps the moderation log: each moderation event carries its entry.
  if ("log" in event.data && event.data.log && state.moderationLog) {
    const entry = event.data.log;
    if (!state.moderationLog.some((item) => item.id === entry.id)) state.moderationLog.push(entry);
  }
  switch (event.type) {
    case "member:joined":
    case "member:updated":
    case "member:moderated": {
      upsertMember(state, event.data.member);
      // Only an active participant can hold a raised hand (a kick, ban or new role lowers it).
      const member = event.data.member;
      if (member.status !== "active" || member.role !== "participant") removeHand(state, member.id);
      return;
    }
    case "seminar:started":
    case "seminar:ended":
    case "seminar:updated":
      state.seminar = { ...state.seminar, ...event.data.seminar };
      state.essay.frozen = state.essay.frozen || event.type === "seminar:started";
      return;
    case "essay:replaced":
      state.essay = event.data.essay;
      return;
    case "annotation:created":
    case "annotation:updated":
    case "annotation:deleted":
    case "annotation:moderated":
      upsertAnnotation(state.annotations, event.data.annotation);
      return;
    case "annotation:withdrawn": {
      // The viewer may no longer see it (a moderator hid it): drop it from what is shown.
      const index = state.annotations.findIndex((item) => item.id === event.data.annotationId);
      if (index >= 0) state.annotations.splice(index, 1);
      return;
    }
    case "annotation:reacted": {
      const annotation = state.annotations.find((item) => item.id === event.data.annotationId);
      if (!annotation) return;
      const members = new Set(annotation.reactions[event.data.kind] ?? []);
      if (event.data.active) members.add(event.data.memberId);
      else members.delete(event.data.memberId);
      if (members.size > 0) annotation.reactions[event.data.kind] = [...members];
      else delete annotation.reactions[event.data.kind];
      return;
    }
    case "prompt:created":
    case "prompt:updated":
    case "prompt:opened":
    case "prompt:closed":
    case "prompt:revealed": {
      const index = state.prompts.findIndex((prompt) => prompt.id === event.data.prompt.id);
      if (index >= 0) state.prompts[index] = event.data.prompt;
      else state.prompts.push(event.data.prompt);
      state.prompts.sort((a, b) => a.position - b.position);
      return;
    }
    case "prompt:deleted": {
      const { promptId } = event.data;
      state.prompts = state.prompts.filter((prompt) => prompt.id !== promptId);
      state.tallies = state.tallies.filter((tally) => tally.promptId !== promptId);
      state.myBallots = state.myBallots.filter((ballot) => ballot.promptId !== promptId);
      return;
    }
    case "room:locked":
      state.seminar = { ...state.seminar, locked: event.data.locked };
      return;
    case "room:slow_mode":
      state.seminar = { ...state.seminar, slowModeSeconds: event.data.seconds };
      return;
    case "room:spotlight":
      state.spotlight = event.data.spotlight;
      state.seminar = { ...state.seminar, spotlightParagraphId: event.data.spotlight?.paragraphId ?? null };
      return;
    case "room:phase":
      state.phase = event.data.phase;
      return;
    case "room:phase_ended":
      if (state.phase?.id === event.data.phase.id) state.phase = event.data.phase;
      return;
    case "queue:updated": {
      const { action, memberId, raisedAt } = event.data;
      if (action === "clear") state.queue = [];
      else if (action === "raise" && memberId && raisedAt) {
        if (!state.queue.some((hand) => hand.memberId === memberId)) state.queue.push({ memberId, raisedAt });
      } else if (memberId) removeHand(state, memberId);
      return;
    }
  }
}

/** Adds or replaces a member; the roster's order is (joinedAt, id), as in snapshots. */
function upsertMember(state: RoomSnapshot, member: MemberView): void {
  const index = state.members.findIndex((item) => item.id === member.id);
  if (index >= 0) state.members[index] = member;
  else state.members.push(member);
  // Guests admitted together share a joinedAt; the id breaks the tie.
  state.members.sort((a, b) =>
    a.joinedAt === b.joinedAt ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.joinedAt < b.joinedAt ? -1 : 1,
  );
}

/** Takes a member's hand out of the queue (lowered, called, or no longer a participant). */
function removeHand(state: RoomSnapshot, memberId: string): void {
  state.queue = state.queue.filter((hand) => hand.memberId !== memberId);
}

function upsertAnnotation(list: AnnotationView[], annotation: AnnotationView): void {
  const index = list.findIndex((item) => item.id === annotation.id);
  if (index >= 0) list[index] = annotation;
  else list.push(annotation);
}

/** Keeps the newest tally per prompt; an older or equal version is ignored. Returns whether applied. */
export function applyTally(state: RoomSnapshot, tally: TallyView): boolean {
  const index = state.tallies.findIndex((item) => item.promptId === tally.promptId);
  if (index >= 0) {
    if (state.tallies[index]!.version >= tally.version) return false;
    state.tallies[index] = tally;
  } else {
    state.tallies.push(tally);
  }
  return true;
}

/** Applies a presence delta. */
export function applyPresence(state: RoomSnapshot, delta: PresenceDelta): void {
  const byId = new Map(state.presence.map((entry) => [entry.memberId, entry]));
  for (const id of delta.left) byId.delete(id);
  for (const entry of [...delta.joined, ...delta.focus]) byId.set(entry.memberId, entry);
  state.presence = [...byId.values()];
}

/**
 * Orders a room's stream for one client: feed it every `room:event` and every room:sync answer;
 * it applies events exactly once and in order, and says when a gap needs a room:sync.
 */
export class RoomStream {
  state: RoomSnapshot | undefined;
  private readonly early = new Map<number, RoomEventView>();
  /** Presence deltas received since room:sync was sent (see syncing()). */
  private presenceSinceSync: PresenceDelta[] | undefined;
  /** Every event applied, in order (for tests and diagnostics). */
  readonly applied: RoomEventView[] = [];

  /** The last sequence number applied (0 before the first snapshot). */
  get seq(): number {
    return this.state?.seq ?? 0;
  }

  /**
   * Call right before sending room:sync: the presence deltas that arrive until its answer are
   * applied again on top of the presence the answer carries (which may have been read before them).
   */
  syncing(): void {
    this.presenceSinceSync = [];
  }

  /** Applies a room:sync answer. */
  sync(view: SyncView): void {
    if (view.mode === "snapshot") {
      this.state = view.snapshot;
      for (const seq of [...this.early.keys()]) if (seq <= view.snapshot.seq) this.early.delete(seq);
      this.drain();
    } else {
      for (const event of view.events) this.receive(event);
      if (this.state) {
        for (const tally of view.tallies) applyTally(this.state, tally);
        this.state.presence = view.presence;
      }
    }
    if (this.state) for (const delta of this.presenceSinceSync ?? []) applyPresence(this.state, delta);
    this.presenceSinceSync = undefined;
  }

  /** Takes a presence:delta (kept for the answer of a room:sync in flight). */
  receivePresence(delta: PresenceDelta): void {
    this.presenceSinceSync?.push(delta);
    if (this.state) applyPresence(this.state, delta);
  }

  /** Takes one live event; returns true when a gap was detected (call room:sync with `seq`). */
  receive(event: RoomEventView): boolean {
    if (!this.state || event.seq <= this.state.seq) {
      if (!this.state) this.early.set(event.seq, event);
      return false;
    }
    this.early.set(event.seq, event);
    this.drain();
    return this.early.size > 0;
  }

  private drain(): void {
    if (!this.state) return;
    for (;;) {
      const next = this.early.get(this.state.seq + 1);
      if (!next) break;
      this.early.delete(next.seq);
      applyRoomEvent(this.state, next);
      this.applied.push(next);
    }
    for (const seq of [...this.early.keys()]) if (seq <= this.state.seq) this.early.delete(seq);
  }
}
