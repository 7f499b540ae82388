/**
 * The signed-in moderator's account session, kept in localStorage, and REST calls made with its
 * token. (The sign-in pages write it; the console and the projector read it.)
 */
import type { Result } from "../../../src/protocol/result.ts";

/** What sign-up or sign-in gave us. */
export interface AccountSession {
  token: string;
  /** ISO time the token expires. */
  expiresAt: string;
  accountId: string;
  email: string;
  displayName: string;
}

const KEY = "stepstone.account.v1";

function isSession(value: unknown): value is AccountSession {
  if (!value || typeof value !== "object") return false;
  const fields = ["token", "expiresAt", "accountId", "email", "displayName"] as const;
  return fields.every((field) => typeof (value as Record<string, unknown>)[field] === "string");
}

/** The stored account session while its token is valid, else null. */
export function currentAccount(): AccountSession | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const parsed: unknown = JSON.parse(raw);
    if (!isSession(parsed) || Date.parse(parsed.expiresAt) <= Date.now()) return null;
    return parsed;
  } catch {
    // Storage disabled or garbage in it: nobody is signed in.
    return null;
  }
}

/** Stores the session of a sign-in (or a refreshed token). */
export function saveAccount(session: AccountSession): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(session));
  } catch {
    // Without storage the sign-in lasts as long as the page.
  }
}

/** Forgets the account session. */
export function signOut(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // Nothing stored.
  }
}

/** A REST call with the account's token; answers the protocol's envelope (network failures as `unavailable`). */
export async function accountFetch<T>(path: string, init: RequestInit = {}): Promise<Result<T>> {
  const account = currentAccount();
  if (!account) return { ok: false, error: { code: "unauthenticated", message: "Sign in to continue." } };
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${account.token}`);
  headers.set("accept", "application/json");
  if (init.body !== undefined && !headers.has("content-type"))
    headers.set("content-type", "application/json");
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch {
    return {
      ok: false,
      error: { code: "unavailable", message: "Cannot reach the server. Check your connection." },
    };
  }
  try {
    return (await response.json()) as Result<T>;
  } catch {
    return { ok: false, error: { code: "internal", message: `The server answered ${response.status}.` } };
  }
}
