/**
 * Why a connection ends, and what the client does about it. The server announces a deliberate
 * disconnect with `connection:closing { reason, message }` (in the shared event map) just before
 * it closes the socket.
 */
import type { ClosingView, ServerToClientEvents } from "../../../src/protocol/events.ts";

export type { CloseReason } from "../../../src/protocol/events.ts";

/** `connection:closing` payload. */
export type ClosingInfo = ClosingView;

/** The server's events as this client handles them (the shared map). */
export type ClientServerEvents = ServerToClientEvents;

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
    case "flooding":
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
    case "flooding":
      return "Too many actions at once. Reconnecting…";
    default:
      return "The server closed the connection.";
  }
}
