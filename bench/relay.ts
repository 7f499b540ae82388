/**
 * The ceiling: a bare Socket.IO relay with no authentication, no validation and no database, that
 * answers the same commands with messages of the same shape and size as the application, and
 * sends the same broadcasts on the same coalescing intervals (tallies every 150 ms, presence
 * every 500 ms). Every figure the bench measures on the application is also measured here, with
 * the same generator, so a reader can tell what the application costs above Socket.IO itself.
 *
 * Tokens are `relay:<roomId>:<memberId>` and are trusted as they are.
 */
import { randomUUID } from "node:crypto";
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import { Server, type Socket } from "socket.io";
import { LIMITS } from "../src/protocol/limits.ts";
import type {
  AnnotationView,
  MemberView,
  OmittedEventsView,
  ParagraphView,
  PresenceView,
  RoomEventView,
  RoomSnapshot,
  SeminarView,
  TallyView,
} from "../src/protocol/views.ts";
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
  pending: { joined: Set<string>; left: Set<string>; focus: Set<string> };
  annotations: AnnotationView[];
  prompts: Map<string, RelayPrompt>;
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
    pending: { joined: new Set(), left: new Set(), focus: new Set() },
    annotations: [],
    prompts: new Map(),
  };
}

/** Starts the relay on `httpServer` (which must not have other request handlers). */
export function createRelay(httpServer: HttpServer): Relay {
  const io = new Server(httpServer, { serveClient: false, maxHttpBufferSize: LIMITS.maxSocketMessageBytes });
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
  };

  const join = (room: RelayRoom, member: MemberView) => {
    room.seq += 1;
    const at = new Date().toISOString();
    room.joins.push({ seq: room.seq, type: "member:joined", at, actor: member.id, data: { member } });
    room.joinTimer ??= setTimeout(() => flushJoins(room), LIMITS.membershipBatchMs);
  };

  // Any other event sends the waiting joins first; participants' copy carries the author's view.
  const broadcastAnnotation = (room: RelayRoom, actor: string, annotation: AnnotationView) => {
    flushJoins(room);
    room.seq += 1;
    const event: RoomEventView = {
      seq: room.seq,
      type: "annotation:created",
      at: new Date().toISOString(),
      actor,
      data: { annotation },
    };
    io.to(moderators(room)).emit("room:event", event);
    const author = room.members.get(annotation.authorId);
    io.to(room.id).emit("room:event", author ? { ...event, members: [author] } : event);
  };

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
      let room = roomsByCode.get(input.code);
      if (!room) room = roomOf(randomUUID(), input.code);
      const member: MemberView = {
        id: randomUUID(),
        displayName: input.displayName,
        joinedAt: new Date().toISOString(),
        role: "participant",
        status: "active",
        muted: false,
        mutedUntil: null,
      };
      room.members.set(member.id, member);
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

  const flushPresence = setInterval(() => {
    for (const room of rooms.values()) {
      const { joined, left, focus } = room.pending;
      if (joined.size + left.size + focus.size === 0) continue;
      const view = (memberId: string): PresenceView => ({
        memberId,
        displayName: room.members.get(memberId)?.displayName ?? "P",
        paragraphId: room.presence.get(memberId) ?? null,
      });
      io.to(room.id).emit("presence:delta", {
        joined: [...joined].map(view),
        left: [...left],
        focus: [...focus].filter((id) => !joined.has(id)).map(view),
      });
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
  const flushTallies = setInterval(() => {
    for (const room of rooms.values()) {
      for (const [promptId, prompt] of room.prompts) {
        if (!prompt.dirty) continue;
        prompt.dirty = false;
        prompt.version += 1;
        io.to(room.id).emit("tally:update", tallyOf(promptId, prompt));
      }
    }
  }, LIMITS.tallyFlushMs);

  io.on("connection", (socket: Socket) => {
    const token = String((socket.handshake.auth as { token?: string }).token ?? "");
    const [, roomId = "none", rawMember = randomUUID()] = token.split(".")[0]!.split(":");
    const memberId = rawMember;
    const room = roomOf(roomId);
    if (!room.members.has(memberId)) {
      room.members.set(memberId, {
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
    room.pending.left.delete(memberId);
    room.pending.joined.add(memberId);

    const handlers: Record<string, (payload: Record<string, unknown>) => unknown> = {
      "room:sync": () => {
        const self = room.members.get(memberId);
        const snapshot: RoomSnapshot = {
          seq: room.seq,
          seminar: { ...room.seminar, joinCode: undefined, joinUrl: undefined },
          essay: {
            title: "The Room Reads Together",
            byline: "By the Stepstone bench",
            dateline: null,
            language: "en",
            frozen: true,
            paragraphs: room.paragraphs,
          },
          members: [room.host, ...(self ? [self] : [])],
          presence: [...room.presence].map(([id, paragraphId]) => ({
            memberId: id,
            displayName: room.members.get(id)?.displayName ?? "P",
            paragraphId,
          })),
          annotations: room.annotations,
          prompts: [],
          tallies: [...room.prompts].map(([promptId, prompt]) => tallyOf(promptId, prompt)),
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
      },
      "presence:focus": (payload) => {
        const paragraphId = (payload.paragraphId as string | null) ?? null;
        room.presence.set(memberId, paragraphId);
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
        prompt.dirty = true;
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
      room.annotations.push(annotation);
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
      ack({ ok: true, data: handler((args[0] ?? {}) as Record<string, unknown>) });
    });

    socket.on("disconnect", () => {
      room.presence.delete(memberId);
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
    },
  };
}
