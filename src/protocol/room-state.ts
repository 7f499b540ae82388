/**
 * The client side of the room stream: applies events in sequence order to a snapshot, drops
 * duplicates, holds early arrivals and reports gaps. The web client and the tests use it, so both
 * hold the room exactly as the server's log says. No Node, Express or Prisma imports here.
 */
import type { PresenceDelta, PresenceUpdate } from "./events.ts";
import type {
  AnnotationView,
  MemberRole,
  MemberView,
  PresenceSummaryView,
  PresenceView,
  RoomEventView,
  RoomSnapshot,
  RoomStreamEvent,
  SyncView,
  TallyView,
} from "./views.ts";

/**
 * Whether a viewer's room state holds the whole roster: moderators' does; a participant's or
 * observer's holds only the members it refers to (a lecture hall's roster is the moderators').
 */
export function holdsWholeRoster(role: MemberRole): boolean {
  return role === "host" || role === "co_moderator";
}

/**
 * The member ids a room state refers to: the viewer, the authors of its annotations and who
 * reacted to them, and the raised hands.
 */
export function referencedMemberIds(state: {
  viewer: { memberId: string };
  annotations: readonly AnnotationView[];
  queue: RoomSnapshot["queue"];
}): Set<string> {
  const ids = new Set<string>([state.viewer.memberId]);
  for (const annotation of state.annotations) {
    ids.add(annotation.authorId);
    for (const reactors of Object.values(annotation.reactions)) for (const id of reactors) ids.add(id);
  }
  for (const hand of state.queue) ids.add(hand.memberId);
  return ids;
}

/**
 * Whether a member belongs in a participant's or observer's state: every moderator (whose posts
 * carry a badge), and the members the state refers to. The server builds their snapshots' rosters
 * with this rule and applyRoomEvent keeps it, so live state and a fresh snapshot agree.
 */
export function isReferencedMember(member: MemberView, referenced: ReadonlySet<string>): boolean {
  return holdsWholeRoster(member.role) || referenced.has(member.id);
}

/** Drops from a participant's or observer's state the members it no longer refers to. */
function pruneRoster(state: RoomSnapshot): void {
  if (holdsWholeRoster(state.viewer.role)) return;
  const referenced = referencedMemberIds(state);
  if (state.members.every((member) => isReferencedMember(member, referenced))) return;
  state.members = state.members.filter((member) => isReferencedMember(member, referenced));
}

/**
 * Applies one event to a room state (in place). Unknown event types are ignored. In a
 * participant's or observer's state, the members the event carries are upserted first and those
 * it no longer refers to dropped after.
 */
export function applyRoomEvent(state: RoomSnapshot, event: RoomEventView): void {
  for (const member of event.members ?? []) upsertMember(state, member);
  applyFact(state, event);
  pruneRoster(state);
}

function applyFact(state: RoomSnapshot, event: RoomEventView): void {
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

/** The roster's order, as in snapshots: joinedAt, then id (guests admitted together share a joinedAt). */
function rosterOrder(a: MemberView, b: MemberView): number {
  if (a.joinedAt !== b.joinedAt) return a.joinedAt < b.joinedAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Adds or replaces a member, in roster order (a newcomer usually goes last: no sort needed). */
function upsertMember(state: RoomSnapshot, member: MemberView): void {
  const members = state.members;
  const index = members.findIndex((item) => item.id === member.id);
  if (index >= 0) {
    members[index] = member;
    return;
  }
  let at = members.length;
  while (at > 0 && rosterOrder(members[at - 1]!, member) > 0) at--;
  members.splice(at, 0, member);
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

/**
 * The counts of a presence list that names everyone present: how many, and how many read each
 * paragraph (by paragraph id), as read at `at`. A larger room's summary is of the whole list, made
 * before the list is cut to the moderators (presenceFor), and marked not complete there.
 */
export function summarisePresence(presence: readonly PresenceView[], at: number): PresenceSummaryView {
  const reading = new Map<string, number>();
  for (const { paragraphId } of presence)
    if (paragraphId) reading.set(paragraphId, (reading.get(paragraphId) ?? 0) + 1);
  return {
    at,
    present: presence.length,
    reading: [...reading]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([paragraphId, count]) => ({ paragraphId, count })),
    complete: true,
  };
}

/** Applies a presence delta (moderators, whose list names everyone; the counts follow it). */
export function applyPresence(state: RoomSnapshot, delta: PresenceDelta): void {
  const byId = new Map(state.presence.map((entry) => [entry.memberId, entry]));
  for (const id of delta.left) byId.delete(id);
  for (const entry of [...delta.joined, ...delta.focus]) byId.set(entry.memberId, entry);
  state.presence = [...byId.values()];
  if (state.presenceSummary.complete)
    state.presenceSummary = summarisePresence(state.presence, state.presenceSummary.at);
}

/**
 * Applies presence whole (participants and observers) unless what the state holds was read later;
 * returns whether applied.
 */
export function applyPresenceUpdate(state: RoomSnapshot, update: PresenceUpdate): boolean {
  if (update.presenceSummary.at < state.presenceSummary.at) return false;
  state.presence = update.presence;
  state.presenceSummary = update.presenceSummary;
  return true;
}

/**
 * Orders a room's stream for one client: feed it every `room:event` and every room:sync answer;
 * it applies events exactly once and in order, and says when a gap needs a room:sync.
 */
export class RoomStream {
  state: RoomSnapshot | undefined;
  /** Entries not applicable yet, by the first seq they cover. */
  private readonly early = new Map<number, RoomStreamEvent>();
  /**
   * Presence deltas received since the earliest room:sync still in flight was sent (see
   * syncing()); undefined when none is.
   */
  private presenceSinceSync: PresenceDelta[] | undefined;
  /** The newest presence:update received (applied again after a sync if newer than its answer). */
  private latestPresence: PresenceUpdate | undefined;
  /** room:sync requests sent (syncing()) and not answered yet (sync()). */
  private syncsInFlight = 0;
  /** Every entry applied (events and omitted ranges), in order (for tests and diagnostics). */
  readonly applied: RoomStreamEvent[] = [];

  /** The last sequence number applied (0 before the first snapshot). */
  get seq(): number {
    return this.state?.seq ?? 0;
  }

  /**
   * Call right before sending room:sync: the presence deltas that arrive until its answer are
   * applied again on top of the presence the answer carries (which may have been read before them).
   * Several may be in flight: the deltas are kept until the last is answered, and each answer
   * replays all of them. Replaying deltas older than the answer's presence is harmless: applied in
   * order, the last delta that names a member says where they are, and a member no delta names
   * keeps the answer's entry.
   */
  syncing(): void {
    this.syncsInFlight++;
    this.presenceSinceSync ??= [];
  }

  /** Applies a room:sync answer. */
  sync(view: SyncView): void {
    if (view.mode === "snapshot") {
      this.state = view.snapshot;
      // An omitted range the snapshot fell inside stays: drain takes it from the snapshot's seq on.
      for (const [first, entry] of this.early) if (entry.seq <= view.snapshot.seq) this.early.delete(first);
      this.drain();
      this.replayPresence();
    } else {
      for (const event of view.events) this.receive(event);
      if (this.state) {
        for (const tally of view.tallies) applyTally(this.state, tally);
        applyPresenceUpdate(this.state, view);
        this.replayPresence();
      }
    }
    this.syncAbandoned();
  }

  /** A room:sync sent after syncing() got no answer or a refusal: nothing to apply. */
  syncAbandoned(): void {
    this.syncsInFlight = Math.max(0, this.syncsInFlight - 1);
    if (this.syncsInFlight === 0) this.presenceSinceSync = undefined;
  }

  /** Takes a presence:delta (kept for the answers of room:sync requests in flight). */
  receivePresence(delta: PresenceDelta): void {
    this.presenceSinceSync?.push(delta);
    if (this.state) applyPresence(this.state, delta);
  }

  /** Takes a presence:update (participants and observers): applied when not older than the state's. */
  receivePresenceUpdate(update: PresenceUpdate): void {
    if (!this.latestPresence || update.presenceSummary.at >= this.latestPresence.presenceSummary.at)
      this.latestPresence = update;
    if (this.state) applyPresenceUpdate(this.state, update);
  }

  /** After a sync answer: the deltas since it was sent, and the newest update if it is newer. */
  private replayPresence(): void {
    if (!this.state) return;
    for (const delta of this.presenceSinceSync ?? []) applyPresence(this.state, delta);
    if (this.latestPresence) applyPresenceUpdate(this.state, this.latestPresence);
  }

  /**
   * Takes one live entry (an event or an omitted range); returns true when a gap was detected
   * (call room:sync with `seq`).
   */
  receive(event: RoomStreamEvent): boolean {
    if (!this.state || event.seq <= this.state.seq) {
      if (!this.state) this.early.set(firstSeq(event), event);
      return false;
    }
    this.early.set(firstSeq(event), event);
    this.drain();
    return this.early.size > 0;
  }

  private drain(): void {
    const state = this.state;
    if (!state) return;
    for (;;) {
      const next = this.early.get(state.seq + 1) ?? this.overlapping(state.seq);
      if (!next) break;
      this.early.delete(firstSeq(next));
      if (next.type === "room:omitted") state.seq = next.seq;
      else applyRoomEvent(state, next);
      this.applied.push(next);
    }
    for (const [first, entry] of this.early) if (entry.seq <= state.seq) this.early.delete(first);
  }

  /** An omitted range that began at or before `seq` and goes past it (a snapshot fell inside it). */
  private overlapping(seq: number): RoomStreamEvent | undefined {
    for (const [first, entry] of this.early) if (first <= seq && entry.seq > seq) return entry;
    return undefined;
  }
}

/** The first seq a stream entry covers (an omitted range covers `data.from` to `seq`). */
export function firstSeq(entry: RoomStreamEvent): number {
  return entry.type === "room:omitted" ? entry.data.from : entry.seq;
}
