/**
 * Why a connection ends, and what the client does about it. The server announces a deliberate
 * disconnect with `connection:closing { reason, message }` just before it closes the socket.
 * That event is not in the shared event map yet (it comes with the moderation stage), so the
 * client declares it here, beside the shared map.
 */
import type { ServerToClientEvents } from "../../../src/protocol/events.ts";

/** The reasons the server gives for closing a socket. */
export type CloseReason =
  | "token_expired"
  | "kicked"
  | "banned"
  | "session_ended"
  | "shutting_down"
  | "rights_changed";

/** `connection:closing` payload. */
export interface ClosingInfo {
  reason: CloseReason;
  /** A sentence for the person, from the server. */
  message: string;
}

/** The server's events as this client handles them: the shared map plus `connection:closing`. */
export interface ClientServerEvents extends ServerToClientEvents {
  /** The server is about to disconnect this socket, and why. */
  "connection:closing": (info: ClosingInfo) => void;
}

/** What the client does after the server closed its socket. */
export type AfterClose =
  /** Connect again (a restarting node, or rights to be decided again at connect). */
  | "reconnect"
  /** The token ran out: resume if possible, else join again. */
  | "resume"
  /** Stay on the page, read-only, without reconnecting. */
  | "stop";

/** The action for each reason; an unknown reason is treated as a change of rights. */
export function afterClose(reason: string | undefined): AfterClose {
  switch (reason) {
    case "shutting_down":
    case "rights_changed":
      return "reconnect";
    case "token_expired":
      return "resume";
    case "kicked":
    case "banned":
    case "session_ended":
      return "stop";
    default:
      return "reconnect";
  }
}

/** A default sentence per reason, used when the server sent none. */
export function describeClose(reason: string | undefined): string {
  switch (reason) {
    case "token_expired":
      return "Your session expired. Join again to continue.";
    case "kicked":
      return "A moderator removed you from this seminar.";
    case "banned":
      return "A moderator banned you from this seminar.";
    case "session_ended":
      return "The session has ended. What you see stays here, read-only.";
    case "shutting_down":
      return "The server is restarting. Reconnecting…";
    case "rights_changed":
      return "Your role changed. Reconnecting…";
    default:
      return "The server closed the connection.";
  }
}
