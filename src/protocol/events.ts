/**
 * The Socket.IO contract shared by server and client. Commands are `<entity>:<verb>`, take a
 * payload (validated by the schema of the same name in schemas.ts) and an ack that receives a
 * Result. Server-to-client events are facts. No Node, Express or Prisma imports here.
 */
import type { AnnotationCommands } from "./annotations.ts";
import type { PromptCommands } from "./prompts.ts";
import type { Result } from "./result.ts";
import type { PresenceView, RoomEventView, SyncView, TallyView } from "./views.ts";

/** Every command's ack. */
export type Ack<T> = (result: Result<T>) => void;

/** Commands a client sends. Each answers through its ack; a refused one changes nothing. */
export interface ClientToServerEvents extends AnnotationCommands, PromptCommands {
  /** Catch up after `since` or get a snapshot. Any member. */
  "room:sync": (payload: { since?: number }, ack: Ack<SyncView>) => void;
  /** Report the paragraph being read. Any member; throttled and coalesced. */
  "presence:focus": (
    payload: { paragraphId: string | null },
    ack: Ack<{ paragraphId: string | null }>,
  ) => void;
  /** Exchange the connection's token for a fresh one before it expires. Any member. */
  "auth:refresh": (payload: Record<string, never>, ack: Ack<{ token: string; expiresAt: string }>) => void;
  /** Start the session: freezes the essay, opens the room for writing. Host or co-moderator. */
  "seminar:start": (payload: Record<string, never>, ack: Ack<{ seq: number }>) => void;
  /** End the session: the room becomes read-only. Host or co-moderator. */
  "seminar:end": (payload: Record<string, never>, ack: Ack<{ seq: number }>) => void;
}

/** Presence changes, coalesced per room. */
export interface PresenceDelta {
  joined: PresenceView[];
  left: string[];
  focus: PresenceView[];
}

/** Facts the server sends. */
export interface ServerToClientEvents {
  /** The room's ordered stream: apply in `seq` order; on a gap, call room:sync with your last seq. */
  "room:event": (event: RoomEventView) => void;
  /** Several consecutive events of the stream in one message (membership bursts are batched). */
  "room:events": (events: RoomEventView[]) => void;
  /** Presence changes since the last delta (ephemeral, not sequenced). */
  "presence:delta": (delta: PresenceDelta) => void;
  /** A prompt's current tally; ignore one whose version is not above what you show. */
  "tally:update": (tally: TallyView) => void;
  /** The connection's token expires soon: call auth:refresh. */
  "auth:expiring": (info: { expiresAt: string }) => void;
}

/** What the server keeps on each socket after the handshake. */
export interface SocketData {
  seminarId: string;
  memberId: string;
  accountId: string | null;
  role: import("./views.ts").MemberRole;
  displayName: string;
  tokenExpiresAt: number;
  rightsVersion: number;
}

/** Why the server closed a socket (sent as the `connect_error`/disconnect reason message). */
export const CLOSE_REASONS = {
  tokenExpired: "token_expired",
  rightsChanged: "rights_changed",
  tooManyConnections: "too_many_connections",
} as const;
