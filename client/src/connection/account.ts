/**
 * The moderator's account session: signing up and in against /api/auth/*, the stored token
 * (localStorage `stepstone.account.v1`) and `accountFetch`, the REST call with the bearer token
 * that every moderator page uses. Answers are the API's `Result` envelope, as in `api.ts`.
 */
import { signal } from "@preact/signals";
import type { z } from "zod";
import type { Result } from "../../../src/protocol/result.ts";
import { LoginInput, RegisterInput } from "../../../src/protocol/schemas.ts";
import { validationError } from "./api.ts";
import { fetchEnvelope } from "./http.ts";

/** A signed-in moderator: the account token and who it belongs to. */
export interface AccountSession {
  token: string;
  /** ISO time the token expires. */
  expiresAt: string;
  accountId: string;
  email: string;
  displayName: string;
}

/** What POST /api/auth/register and /api/auth/login answer. */
interface AuthAnswer {
  token: string;
  expiresAt: string;
  account: { id: string; email: string; displayName: string; createdAt: string };
}

const KEY = "stepstone.account.v1";
/** A token this close to its expiry is treated as gone (ms). */
const EXPIRY_MARGIN_MS = 15_000;
/** A token this close to its expiry is exchanged for a fresh one before the next request (ms). */
const REFRESH_BEFORE_MS = 10 * 60_000;

/** Raised on every sign-in and sign-out, so pages that show the account re-render. */
export const accountRevision = signal(0);

function isSession(value: unknown): value is AccountSession {
  if (!value || typeof value !== "object") return false;
  const fields = value as Record<string, unknown>;
  return ["token", "expiresAt", "accountId", "email", "displayName"].every(
    (key) => typeof fields[key] === "string",
  );
}

/** The stored session while its token is valid; null when there is none or it expired. */
export function currentAccount(now = Date.now()): AccountSession | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const parsed: unknown = JSON.parse(raw);
    if (!isSession(parsed)) return null;
    return Date.parse(parsed.expiresAt) - EXPIRY_MARGIN_MS > now ? parsed : null;
  } catch {
    // Storage disabled or holding garbage: nobody is signed in.
    return null;
  }
}

/** Stores a session (replacing any other). */
export function saveAccount(session: AccountSession): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(session));
  } catch {
    // Without storage the session lasts until the page is closed: keep it in memory instead.
  }
  accountRevision.value++;
}

/** Forgets the stored session. */
export function signOut(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // Nothing stored.
  }
  accountRevision.value++;
}

/**
 * A REST call as the signed-in moderator (bearer token), answered with the envelope, following
 * the server's retry hints when it is busy (http.ts). JSON bodies get their content type when
 * none is given. Without a session (or after it expired) the answer is `unauthenticated` without
 * a request.
 */
export async function accountFetch<T>(path: string, init: RequestInit = {}): Promise<Result<T>> {
  const account = await freshAccount();
  if (!account) {
    return { ok: false, error: { code: "unauthenticated", message: "Please sign in again." } };
  }
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${account.token}`);
  if (!headers.has("accept")) headers.set("accept", "application/json");
  if (typeof init.body === "string" && !headers.has("content-type"))
    headers.set("content-type", "application/json");
  const result = await fetchEnvelope<T>(path, { ...init, headers });
  // The server no longer takes this token (expired early, account gone): forget it.
  if (!result.ok && result.error.code === "unauthenticated") signOut();
  return result;
}

let refreshing: Promise<unknown> | undefined;

/**
 * The session, with its token exchanged for a fresh one (POST /api/auth/refresh) when it has less
 * than ten minutes left, so a moderator who keeps working is not sent back to sign in. A failed
 * refresh keeps the current token while it lasts. Use it before opening a socket with the token.
 */
export async function freshAccount(now = Date.now()): Promise<AccountSession | null> {
  const account = currentAccount(now);
  if (!account || Date.parse(account.expiresAt) - now > REFRESH_BEFORE_MS) return account;
  refreshing ??= authenticate("/api/auth/refresh", undefined, account.token).finally(() => {
    refreshing = undefined;
  });
  await refreshing;
  return currentAccount();
}

async function authenticate(path: string, body: unknown, token?: string): Promise<Result<AccountSession>> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
  };
  if (token) headers.authorization = `Bearer ${token}`;
  const result = await fetchEnvelope<AuthAnswer>(path, {
    method: "POST",
    headers,
    body: JSON.stringify(body ?? {}),
  });
  if (!result.ok) return result;
  const session: AccountSession = {
    token: result.data.token,
    expiresAt: result.data.expiresAt,
    accountId: result.data.account.id,
    email: result.data.account.email,
    displayName: result.data.account.displayName,
  };
  saveAccount(session);
  return { ok: true, data: session };
}

/** Creates a moderator account and signs in with it. Validates first. */
export async function signUp(input: z.input<typeof RegisterInput>): Promise<Result<AccountSession>> {
  const parsed = RegisterInput.safeParse(input);
  if (!parsed.success) return { ok: false, error: validationError(parsed.error) };
  return authenticate("/api/auth/register", parsed.data);
}

/** Signs in with e-mail and password. Validates first. */
export async function signIn(input: z.input<typeof LoginInput>): Promise<Result<AccountSession>> {
  const parsed = LoginInput.safeParse(input);
  if (!parsed.success) return { ok: false, error: validationError(parsed.error) };
  return authenticate("/api/auth/login", parsed.data);
}
