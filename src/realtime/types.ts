import type { Server, Socket } from "socket.io";
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from "../protocol/events.ts";

/** The Socket.IO server, typed by the protocol's event maps. */
export type TypedServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

/** One connection, typed by the protocol's event maps. */
export type TypedSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

/** The actor behind a socket, as command handlers see it (decided again by each write). */
export interface SocketActor {
  seminarId: string;
  memberId: string;
  role: SocketData["role"];
  displayName: string;
  accountId: string | null;
  /** The rights version the connection was admitted with; a write refuses a newer stored one. */
  rightsVersion: number;
}
