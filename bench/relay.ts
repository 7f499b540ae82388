/**
 * The ceiling: a bare Socket.IO relay with no authentication, no validation and no database, that
 * answers the same commands with messages of the same shape and size as the application, and
 * sends the same broadcasts on the same coalescing intervals (tallies every 150 ms, presence
 * every 500 ms). Every figure the bench measures on the application is also measured here, with
 * the same generator, so a reader can tell what the application costs above Socket.IO itself.
 *
 * Tokens are `relay:<roomId>:<memberId>` and are trusted as they are.
 *
 * Several relay processes (`--nodes 2`) are joined as the application's nodes are: broadcasts go
 * through `@socket.io/redis-adapter` (the same adapter, set up by the same code), and what the
 * application keeps in PostgreSQL for every node the relay keeps in Redis with the fewest round
 * trips that give the same answers: a room's sequence numbers (one INCR per event, so events carry
 * one gap-free sequence whichever node sent them), ballots (one HSET per ballot) and tallies (a
 * MULTI of INCR version and HGETALL per flush, so every tally is whole and versioned). Members
 * and annotations are copied to the other nodes (`serverSideEmit`) so snapshots have the same size
 * on every node; presence stays per node (each node announces its own sockets to the room, as the
 * application does to participants: presence whole, by name up to LIMITS.presenceListedMax present
 * and as counts beyond, through the application's own presenceFor).
 */
import { createHash, randomUUID } from "node:crypto";
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import { Server, type Socket } from "socket.io";
import { z } from "zod";
import { LIMITS } from "../src/protocol/limits.ts";
import type {
  AnnotationView,
  MemberView,
  OmittedEventsView,
  ParagraphView,
  RoomEventView,
  RoomSnapshot,
  RoomStreamEvent,
  SeminarView,
  SyncView,
  TallyView,
} from "../src/protocol/views.ts";
import { type Listing, presenceDue, presenceFor } from "../src/realtime/presence.ts";
import type { RedisLink } from "../src/redis.ts";
import { essayBlocks } from "./essay.ts";

interface RelayPrompt {
  ballots: Map<string, string[]>;
  version: number;
  dirty: boolean;
}

interface RelayRoom {
  id: string;
  seq: number;
  seminar: SeminarView;
  paragraphs: ParagraphView[];
  /** The host, whom every participant's snapshot lists (as the application's do). */
  host: MemberView;
  /** Every member, for names; snapshots carry only the host and the viewer, as the application's. */
  members: Map<string, MemberView>;
  /** member:joined events waiting for the next flush (LIMITS.membershipBatchMs), as the application batches them. */
  joins: RoomEventView[];
  joinTimer: NodeJS.Timeout | undefined;
  presence: Map<string, string | null>;
  /** Raised at every change of `presence`; the view made from it is kept until the next change. */
  presenceVersion: number;
  presenceView: { version: number; view: ReturnType<typeof presenceFor> } | undefined;
  /** When the room's last presence delta went out (ms since the epoch; undefined: never). */
  presenceFlushedAt: number | undefined;
  pending: { joined: Set<string>; left: Set<string>; focus: Set<string> };
  annotations: AnnotationView[];
  prompts: Map<string, RelayPrompt>;
  /**
   * The participants' stream as sent, by seq (the last LIMITS.maxCatchUpEvents), for catch-ups: a
   * room:sync with `since` is answered with the events after it, as the application answers.
   */
  log: RoomStreamEvent[];
}

/** A running relay. */
export interface Relay {
  io: Server;
  close(): Promise<void>;
}

/** A relay token for participant `memberId` of room `roomId`. */
export function relayToken(roomId: string, memberId: string): string {
  return `relay:${roomId}:${memberId}`;
}

function newRoom(id: string, code: string): RelayRoom {
  const at = new Date().toISOString();
  return {
    id,
    seq: 1,
    seminar: {
      id,
      title: "Bench seminar",
      state: "live",
      joinCode: code,
      joinUrl: `http://localhost/join/${code}`,
      locked: false,
      slowModeSeconds: 0,
      spotlightParagraphId: null,
      transcriptAccess: false,
      startedAt: at,
      endedAt: null,
      createdAt: at,
    },
    paragraphs: essayBlocks().map((block, position) => ({
      id: randomUUID(),
      position,
      kind: block.kind,
      level: block.kind === "heading" ? 2 : null,
      text: block.text,
    })),
    host: {
      id: randomUUID(),
      displayName: "Bench moderator",
      joinedAt: at,
      role: "host",
      status: "active",
      muted: false,
      mutedUntil: null,
    },
    members: new Map(),
    joins: [],
    joinTimer: undefined,
    presence: new Map(),
    presenceVersion: 0,
    presenceView: undefined,
    presenceFlushedAt: undefined,
    pending: { joined: new Set(), left: new Set(), focus: new Set() },
    annotations: [],
    prompts: new Map(),
    log: [],
  };
}

/** A room id made from a join code, the same on every relay node (UUID-shaped, as the app's). */
function roomIdOfCode(code: string): string {
  const hex = createHash("sha1").update(code).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The replies of a tally's MULTI: the new version, and the ballots by member. */
const TallyReplies = z.tuple([z.number(), z.record(z.string(), z.string())]);

/** What several relay nodes share through Redis (see the file's comment). */
class SharedRoomState {
  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
  ) {}

  private key(kind: string, id: string): string {
    return `${this.prefix}relay:${kind}:{${id}}`;
  }

  /** The room's next sequence number. */
  async nextSeq(roomId: string): Promise<number> {
    return this.link.client.incr(this.key("seq", roomId));
  }

  /** The room's last sequence number. */
  async lastSeq(roomId: string): Promise<number> {
    return Number((await this.link.client.get(this.key("seq", roomId))) ?? 0);
  }

  /** Stores (or replaces) a member's ballot. */
  async vote(promptId: string, memberId: string, optionIds: string[]): Promise<void> {
    await this.link.client.hset(this.key("ballots", promptId), memberId, optionIds.join(","));
  }

  /** The prompt's tally over every node's ballots, at a new version. */
  async tally(promptId: string): Promise<TallyView> {
    const replies = await this.link.client
      .multi()
      .incr(this.key("version", promptId))
      .hgetall(this.key("ballots", promptId))
      .exec();
    const [version, ballots] = TallyReplies.parse(replies?.map(([, reply]) => reply));
    const counts: Record<string, number> = {};
    for (const options of Object.values(ballots)) {
      for (const option of options.split(",")) counts[option] = (counts[option] ?? 0) + 1;
    }
    return { promptId, version, counts, ballots: Object.keys(ballots).length };
  }
}

/**
 * Starts the relay on `httpServer` (which must not have other request handlers). With `redis`, it
 * is one node of several sharing that Redis under `prefix` (see the file's comment).
 */
export function createRelay(
  httpServer: HttpServer,
  options: { redis?: RedisLink; prefix?: string } = {},
): Relay {
  const io = new Server(httpServer, { serveClient: false, maxHttpBufferSize: LIMITS.maxSocketMessageBytes });
  const shared = options.redis ? new SharedRoomState(options.redis, options.prefix ?? "") : undefined;
  if (options.redis) io.adapter(options.redis.adapter(`${options.prefix ?? ""}socket.io`));
  const rooms = new Map<string, RelayRoom>();
  const roomsByCode = new Map<string, RelayRoom>();

  const roomOf = (id: string, code = id.slice(0, 6)): RelayRoom => {
    let room = rooms.get(id);
    if (!room) {
      room = newRoom(id, code);
      rooms.set(id, room);
      roomsByCode.set(code, room);
    }
    return room;
  };

  // Sockets join `room.id` (participants, as the application's participants' room) and nobody
  // joins the moderators' room, as in the bench's rooms on the application; the emits to it are
  // kept so that the relay encodes what the application encodes.
  const moderators = (room: RelayRoom) => `${room.id}:moderators`;

  // The application's notifier batches joins: moderators get the member:joined events in one
  // message, participants one room:omitted range in their place.
  const flushJoins = (room: RelayRoom) => {
    clearTimeout(room.joinTimer);
    room.joinTimer = undefined;
    const joins = room.joins;
    if (joins.length === 0) return;
    room.joins = [];
    if (joins.length === 1) io.to(moderators(room)).emit("room:event", joins[0]!);
    else io.to(moderators(room)).emit("room:events", joins);
    const last = joins.at(-1)!;
    const omitted: OmittedEventsView = {
      seq: last.seq,
      type: "room:omitted",
      at: last.at,
      actor: null,
      data: { from: joins[0]!.seq },
    };
    io.to(room.id).emit("room:event", omitted);
    addToLog(room, omitted);
  };

  // The room's next sequence number: from Redis with several nodes (one INCR, whose replies come
  // back in the order asked, so one node's events leave in sequence order), else counted here.
  const withSeq = (room: RelayRoom, send: (seq: number) => void) => {
    if (shared) void shared.nextSeq(room.id).then(send);
    else {
      room.seq += 1;
      send(room.seq);
    }
  };

  const join = (room: RelayRoom, member: MemberView) =>
    withSeq(room, (seq) => {
      const at = new Date().toISOString();
      room.joins.push({ seq, type: "member:joined", at, actor: member.id, data: { member } });
      room.joinTimer ??= setTimeout(() => flushJoins(room), LIMITS.membershipBatchMs);
    });

  // Any other event sends the waiting joins first; participants' copy carries the author's view.
  const broadcastAnnotation = (room: RelayRoom, actor: string, annotation: AnnotationView) =>
    withSeq(room, (seq) => {
      flushJoins(room);
      const event: RoomEventView = {
        seq,
        type: "annotation:created",
        at: new Date().toISOString(),
        actor,
        data: { annotation },
      };
      io.to(moderators(room)).emit("room:event", event);
      const author = room.members.get(annotation.authorId);
      const participants = author ? { ...event, members: [author] } : event;
      io.to(room.id).emit("room:event", participants);
      addToLog(room, participants);
    });

  // The participants' stream, kept in seq order for catch-ups (with several nodes, each node's
  // events are copied to the others, whose copies may arrive out of order).
  const keepInLog = (room: RelayRoom, event: RoomStreamEvent) => {
    let at = room.log.length;
    while (at > 0 && room.log[at - 1]!.seq > event.seq) at -= 1;
    room.log.splice(at, 0, event);
    if (room.log.length > LIMITS.maxCatchUpEvents) room.log.shift();
  };
  const addToLog = (room: RelayRoom, event: RoomStreamEvent) => {
    keepInLog(room, event);
    if (shared) io.serverSideEmit("relay:event", room.id, event);
  };
  io.on("relay:event", (roomId: string, event: RoomStreamEvent) => keepInLog(roomOf(roomId), event));

  // What another node adds to a room, copied here for the snapshots.
  const addMember = (room: RelayRoom, member: MemberView) => {
    room.members.set(member.id, member);
    if (shared) io.serverSideEmit("relay:member", room.id, member);
  };
  const addAnnotation = (room: RelayRoom, annotation: AnnotationView) => {
    room.annotations.push(annotation);
    if (shared) io.serverSideEmit("relay:annotation", room.id, annotation);
  };
  io.on("relay:member", (roomId: string, member: MemberView) => {
    roomOf(roomId).members.set(member.id, member);
  });
  io.on("relay:annotation", (roomId: string, annotation: AnnotationView) => {
    roomOf(roomId).annotations.push(annotation);
  });

  // Join by code: the same answer as the application's, and the same member:joined broadcast.
  httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "POST" || req.url !== "/api/seminars/join") {
      res.writeHead(404, { "content-type": "application/json" }).end('{"ok":false}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const input = JSON.parse(Buffer.concat(chunks).toString()) as { code: string; displayName: string };
      const room = roomsByCode.get(input.code) ?? roomOf(roomIdOfCode(input.code), input.code);
      const member: MemberView = {
        id: randomUUID(),
        displayName: input.displayName,
        joinedAt: new Date().toISOString(),
        role: "participant",
        status: "active",
        muted: false,
        mutedUntil: null,
      };
      addMember(room, member);
      join(room, member);
      const { joinCode: _code, joinUrl: _url, ...seminar } = room.seminar;
      const body = {
        ok: true,
        data: {
          token: `${relayToken(room.id, member.id)}.${"x".repeat(180)}`,
          expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
          seminar,
          member,
        },
      };
      res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });

  // Every member here is a participant but the host, who connects as one too.
  const listingOf = (room: RelayRoom): Listing => ({
    at: Date.now(),
    present: [...room.presence].map(([memberId, paragraphId]) => ({
      memberId,
      displayName: room.members.get(memberId)?.displayName ?? "P",
      paragraphId,
      moderator: memberId === room.host.id,
    })),
  });
  // What participants are told of presence, made once per change of the room's presence (a
  // hall's catch-ups and snapshots all carry it; the application makes it once per batch).
  const presenceViewOf = (room: RelayRoom) => {
    if (room.presenceView?.version !== room.presenceVersion) {
      room.presenceView = {
        version: room.presenceVersion,
        view: presenceFor(listingOf(room), false, LIMITS.presenceListedMax),
      };
    }
    return room.presenceView.view;
  };
  const flushPresence = setInterval(() => {
    const now = Date.now();
    for (const room of rooms.values()) {
      const { joined, left, focus } = room.pending;
      if (joined.size + left.size + focus.size === 0) continue;
      // As the application: a room of many sockets less often (presenceDue).
      const sockets = io.sockets.adapter.rooms.get(room.id)?.size ?? 0;
      if (!presenceDue(room.presenceFlushedAt, now, LIMITS.presenceFlushMs, sockets)) continue;
      room.presenceFlushedAt = now;
      io.to(room.id).emit("presence:update", presenceViewOf(room));
      room.pending = { joined: new Set(), left: new Set(), focus: new Set() };
    }
  }, LIMITS.presenceFlushMs);

  const tallyOf = (promptId: string, prompt: RelayPrompt): TallyView => {
    const counts: Record<string, number> = {};
    for (const options of prompt.ballots.values()) {
      for (const option of options) counts[option] = (counts[option] ?? 0) + 1;
    }
    return { promptId, version: prompt.version, counts, ballots: prompt.ballots.size };
  };
  const talliesOf = (room: RelayRoom): TallyView[] =>
    [...room.prompts].map(([promptId, prompt]) => tallyOf(promptId, prompt));
  const flushTallies = setInterval(() => {
    for (const room of rooms.values()) {
      for (const [promptId, prompt] of room.prompts) {
        if (!prompt.dirty) continue;
        prompt.dirty = false;
        if (shared) {
          void shared.tally(promptId).then((tally) => io.to(room.id).emit("tally:update", tally));
        } else {
          prompt.version += 1;
          io.to(room.id).emit("tally:update", tallyOf(promptId, prompt));
        }
      }
    }
  }, LIMITS.tallyFlushMs);

  io.on("connection", (socket: Socket) => {
    const token = String((socket.handshake.auth as { token?: string }).token ?? "");
    const [, roomId = "none", rawMember = randomUUID()] = token.split(".")[0]!.split(":");
    const memberId = rawMember;
    const room = roomOf(roomId);
    if (!room.members.has(memberId)) {
      addMember(room, {
        id: memberId,
        displayName: `P${room.members.size}`,
        joinedAt: new Date().toISOString(),
        role: "participant",
        status: "active",
        muted: false,
        mutedUntil: null,
      });
    }
    void socket.join(roomId);
    room.presence.set(memberId, null);
    room.presenceVersion += 1;
    room.pending.left.delete(memberId);
    room.pending.joined.add(memberId);

    const snapshotAt = (seq: number): SyncView => {
      const self = room.members.get(memberId);
      const snapshot: RoomSnapshot = {
        seq,
        seminar: { ...room.seminar, joinCode: undefined, joinUrl: undefined },
        essay: {
          title: "The Room Reads Together",
          byline: "By the Stepstone bench",
          dateline: null,
          language: "en",
          frozen: true,
          paragraphs: room.paragraphs,
        },
        // As the application's participants' snapshots: the host and the viewer, not the roster.
        members: [room.host, ...(self ? [self] : [])],
        ...presenceViewOf(room),
        annotations: room.annotations,
        prompts: [],
        tallies: talliesOf(room),
        myBallots: [],
        viewer: {
          memberId,
          role: "participant",
          displayName: room.members.get(memberId)?.displayName ?? "P",
          permissions: { moderate: false, annotate: true, vote: true, raiseHand: true, changeRoles: false },
        },
        spotlight: null,
        phase: null,
        queue: [],
      };
      return { mode: "snapshot", snapshot };
    };
    // A catch-up from the log when it holds every event after `since`, as the application's
    // (which also answers a snapshot when the client is ahead or too far behind).
    const syncAt = (since: number | undefined, seq: number): SyncView => {
      if (since === undefined || since > seq || seq - since > LIMITS.maxCatchUpEvents) return snapshotAt(seq);
      const events = room.log.filter((event) => event.seq > since);
      const first = events[0];
      const from = first ? (first.type === "room:omitted" ? first.data.from : first.seq) : seq + 1;
      if (from > since + 1) return snapshotAt(seq);
      return {
        mode: "events",
        seq,
        events,
        tallies: talliesOf(room),
        ...presenceViewOf(room),
      };
    };
    const handlers: Record<string, (payload: Record<string, unknown>) => unknown> = {
      // With several nodes the room's sequence lives in Redis: one GET, as the app reads its database.
      "room:sync": (payload) => {
        const since = typeof payload.since === "number" ? payload.since : undefined;
        return shared ? shared.lastSeq(room.id).then((seq) => syncAt(since, seq)) : syncAt(since, room.seq);
      },
      "presence:focus": (payload) => {
        const paragraphId = (payload.paragraphId as string | null) ?? null;
        room.presence.set(memberId, paragraphId);
        room.presenceVersion += 1;
        room.pending.focus.add(memberId);
        return { paragraphId };
      },
      "annotation:create": (payload) => annotate(payload, null),
      "annotation:reply": (payload) => annotate(payload, String(payload.parentId)),
      "prompt:open": (payload) => {
        const promptId = String(payload.promptId);
        if (!room.prompts.has(promptId))
          room.prompts.set(promptId, { ballots: new Map(), version: 0, dirty: false });
        return { id: promptId, state: "open" };
      },
      "prompt:vote": (payload) => {
        const promptId = String(payload.promptId);
        let prompt = room.prompts.get(promptId);
        if (!prompt) {
          prompt = { ballots: new Map(), version: 0, dirty: false };
          room.prompts.set(promptId, prompt);
        }
        const optionIds = payload.optionIds as string[];
        const revision = prompt.ballots.has(memberId) ? 2 : 1;
        prompt.ballots.set(memberId, optionIds);
        if (shared) {
          const ballotPrompt = prompt;
          void shared.vote(promptId, memberId, optionIds).then(() => {
            ballotPrompt.dirty = true;
          });
        } else prompt.dirty = true;
        return { promptId, optionIds, clientBallotId: payload.clientBallotId, revision };
      },
    };

    const annotate = (payload: Record<string, unknown>, parentId: string | null): AnnotationView => {
      const selector = payload.selector as AnnotationView["selector"] | undefined;
      const annotation: AnnotationView = {
        id: randomUUID(),
        paragraphId: String(payload.paragraphId ?? room.paragraphs[0]!.id),
        authorId: memberId,
        parentId,
        selector: selector
          ? { ...selector, prefix: selector.prefix ?? "", suffix: selector.suffix ?? "" }
          : null,
        body: String(payload.body),
        tags: (payload.tags as string[] | undefined) ?? [],
        version: 1,
        reactions: {},
        deleted: false,
        hidden: false,
        pinned: false,
        createdAt: new Date().toISOString(),
        editedAt: null,
      };
      addAnnotation(room, annotation);
      broadcastAnnotation(room, memberId, annotation);
      return annotation;
    };

    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = args.at(-1);
      if (typeof ack !== "function") return;
      const handler = handlers[event];
      if (!handler) {
        ack({ ok: false, error: { code: "not_found", message: `Unknown event ${event}.` } });
        return;
      }
      const data = handler((args[0] ?? {}) as Record<string, unknown>);
      if (data instanceof Promise) void data.then((answer: unknown) => ack({ ok: true, data: answer }));
      else ack({ ok: true, data });
    });

    socket.on("disconnect", () => {
      room.presence.delete(memberId);
      room.presenceVersion += 1;
      if (room.pending.joined.has(memberId)) room.pending.joined.delete(memberId);
      else room.pending.left.add(memberId);
    });
  });

  return {
    io,
    async close() {
      clearInterval(flushPresence);
      clearInterval(flushTallies);
      for (const room of rooms.values()) clearTimeout(room.joinTimer);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await options.redis?.close();
    },
  };
}
