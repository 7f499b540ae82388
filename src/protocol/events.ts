/**
 * The Socket.IO contract shared by server and client. Commands are `<entity>:<verb>`, take a
 * payload (parsed by its schema in commands.ts) and an ack that receives a Result. Server-to-client
 * events are facts. Every broadcast handler takes exactly one argument. No Node, Express or Prisma
 * imports here.
 */
import type { CommandName, CommandPayload, CommandResult } from "./commands.ts";
import type { Result } from "./result.ts";
import type { MemberRole, PresenceSummaryView, PresenceView, RoomStreamEvent, TallyView } from "./views.ts";

/** Every command's ack. */
export type Ack<T> = (result: Result<T>) => void;

/** Commands a client sends, derived from the registry in commands.ts (see CommandResults for each). */
export type ClientToServerEvents = {
  [E in CommandName]: (payload: CommandPayload<E>, ack: Ack<CommandResult<E>>) => void;
};

/** Presence changes, coalesced per room (moderators). */
export interface PresenceDelta {
  joined: PresenceView[];
  left: string[];
  focus: PresenceView[];
}

/**
 * Presence as participants and observers get it: the whole of it (the snapshot's two fields),
 * replacing what they hold when `presenceSummary.at` is not older than theirs.
 */
export interface PresenceUpdate {
  /** Everyone present, or in a large room the moderators present (presenceSummary.complete says which). */
  presence: PresenceView[];
  presenceSummary: PresenceSummaryView;
}

/** Why the server is about to close a connection (sent in `connection:closing`). */
export const CLOSE_REASONS = [
  /** The token expired without an auth:refresh: get a new token, then reconnect. */
  "token_expired",
  /** A moderator removed the member; they may join again by code. */
  "kicked",
  /** A moderator banned the member; they cannot come back. */
  "banned",
  /** The member's role or rights changed: reconnect (with a fresh token for guests) to continue. */
  "rights_changed",
  /** The session ended; the room is read-only (REST and a new connection still read it). */
  "session_ended",
  /** This server is shutting down: reconnect (another node will answer), then room:sync. */
  "shutting_down",
  /**
   * The connection kept sending after its commands were refused as rate_limited: it is closed so
   * that it cannot keep the server busy answering refusals. Reconnect, and wait as retryAfterMs says.
   */
  "flooding",
] as const;

/** One reason of CLOSE_REASONS. */
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** The last message before the server disconnects a socket. */
export interface ClosingView {
  reason: CloseReason;
  /** A sentence for people. */
  message: string;
}

/** Facts the server sends. Each handler receives exactly one argument. */
export interface ServerToClientEvents {
  /**
   * The room's ordered stream: apply in `seq` order; on a gap, call room:sync with your last seq.
   * Participants and observers also get `room:omitted` ranges (events not for them).
   */
  "room:event": (event: RoomStreamEvent) => void;
  /** Several consecutive entries of the stream in one message (join bursts are batched). */
  "room:events": (events: RoomStreamEvent[]) => void;
  /** Moderators: presence changes since the last delta (ephemeral, not sequenced). */
  "presence:delta": (delta: PresenceDelta) => void;
  /** Participants and observers: presence whole, when it changed (ephemeral; keep the newest `at`). */
  "presence:update": (update: PresenceUpdate) => void;
  /** A prompt's current tally; ignore one whose version is not above what you show. */
  "tally:update": (tally: TallyView) => void;
  /** The connection's token expires soon: call auth:refresh. */
  "auth:expiring": (info: { expiresAt: string }) => void;
  /** The server is about to close this connection, and why. */
  "connection:closing": (info: ClosingView) => void;
}

/** What the server keeps on each socket after the handshake. */
export interface SocketData {
  seminarId: string;
  memberId: string;
  accountId: string | null;
  role: MemberRole;
  displayName: string;
  tokenExpiresAt: number;
  rightsVersion: number;
}
