/**
 * The guest's seminar sessions, kept in localStorage so that a reload (or a closed tab) resumes
 * as the same member: with the token while it is valid, then with the resume secret. One entry
 * per seminar.
 */
import type { MemberView, SeminarView } from "../../../src/protocol/views.ts";
import { resumeWithSecret } from "./api.ts";
import type { RoomAccess } from "./room-connection.ts";

/** What the join answer gave us, and what we need to enter the room again. */
export interface StoredSession {
  seminarId: string;
  seminarTitle: string;
  /** The code as the guest typed it (normalised), to offer the same join link again. */
  joinCode: string;
  token: string;
  /** ISO time the token expires. */
  expiresAt: string;
  memberId: string;
  displayName: string;
  /** The resume secret from the join: an expired token is exchanged for a new one as the same member. */
  resumeSecret?: string;
}

const KEY = "stepstone.sessions.v1";
/** A token this close to its expiry is not worth connecting with (ms). */
const EXPIRY_MARGIN_MS = 15_000;

function readAll(): Record<string, StoredSession> {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return {};
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === "object" ? (parsed as Record<string, StoredSession>) : {};
  } catch {
    // Storage can be disabled (private mode) or hold garbage: start without sessions.
    return {};
  }
}

function writeAll(sessions: Record<string, StoredSession>): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(sessions));
  } catch {
    // Without storage the session simply does not survive a reload.
  }
}

/** Stores the session of a fresh join (replacing an earlier one for the same seminar). */
export function saveJoin(
  joined: {
    token: string;
    expiresAt: string;
    seminar: SeminarView;
    member: MemberView;
    resumeSecret?: string;
  },
  joinCode: string,
): StoredSession {
  const session: StoredSession = {
    seminarId: joined.seminar.id,
    seminarTitle: joined.seminar.title,
    joinCode,
    token: joined.token,
    expiresAt: joined.expiresAt,
    memberId: joined.member.id,
    displayName: joined.member.displayName,
    resumeSecret: joined.resumeSecret,
  };
  const all = readAll();
  all[session.seminarId] = session;
  writeAll(all);
  return session;
}

/** Records a refreshed token (auth:refresh) for a stored session. */
export function saveToken(seminarId: string, token: string, expiresAt: string): void {
  const all = readAll();
  const session = all[seminarId];
  if (!session) return;
  all[seminarId] = { ...session, token, expiresAt };
  writeAll(all);
}

/** The stored session of a seminar, if any (valid or not). */
export function loadSession(seminarId: string): StoredSession | undefined {
  return readAll()[seminarId];
}

/** Every stored session, newest token first. */
export function listSessions(): StoredSession[] {
  return Object.values(readAll()).sort((a, b) => (a.expiresAt < b.expiresAt ? 1 : -1));
}

/** Forgets a seminar's session (leaving the room, or a token the server refused). */
export function forgetSession(seminarId: string): void {
  const all = readAll();
  delete all[seminarId];
  writeAll(all);
}

/** Whether the session's token is still good to connect with. */
export function isUsable(session: StoredSession, now = Date.now()): boolean {
  return Date.parse(session.expiresAt) - EXPIRY_MARGIN_MS > now;
}

/**
 * The session to enter the room with, or undefined when the guest must join again: a valid token
 * as is, else the resume secret exchanged for a fresh token as the same member (refused for a
 * banned member, a kicked one who has not rejoined, or a revoked secret: then join again).
 */
export async function resumeSession(seminarId: string): Promise<StoredSession | undefined> {
  const session = loadSession(seminarId);
  if (!session) return undefined;
  if (isUsable(session)) return session;
  if (!session.resumeSecret) return undefined;
  const resumed = await resumeWithSecret({ seminarId, secret: session.resumeSecret });
  if (!resumed.ok) return undefined;
  saveToken(seminarId, resumed.data.token, resumed.data.expiresAt);
  return loadSession(seminarId);
}

/** How a guest's connection gets and keeps its token: the stored session and the resume secret. */
export function guestAccess(session: StoredSession): RoomAccess {
  return {
    seminarId: session.seminarId,
    token: session.token,
    expiresAt: session.expiresAt,
    ownerId: session.memberId,
    saveToken: (token, expiresAt) => saveToken(session.seminarId, token, expiresAt),
    resume: () => resumeSession(session.seminarId),
    expired: { message: "Your session expired. Join again to continue.", rejoin: true },
  };
}
