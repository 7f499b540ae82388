/**
 * Socket.IO commands as the signed-in moderator, for the preparing pages: connect with the
 * account token and the seminar, send one command, wait for the ack, disconnect. Prompts are written only
 * through Socket.IO (`prompt:create`, `prompt:update`, `prompt:delete`), also while the seminar is
 * a draft; the live console keeps its own connection.
 */
import { io, type Socket } from "socket.io-client";
import type { z } from "zod";
import type { ClientToServerEvents, ServerToClientEvents } from "../../../src/protocol/events.ts";
import { PromptCreateInput, PromptRefInput, PromptUpdateInput } from "../../../src/protocol/prompts.ts";
import { ERROR_CODES, type ErrorBody, type Result } from "../../../src/protocol/result.ts";
import type { PromptView } from "../../../src/protocol/views.ts";
import { freshAccount } from "./account.ts";
import { validationError } from "./api.ts";
import { busyHint, followingHints, UNREACHABLE } from "./http.ts";

const CONNECT_TIMEOUT_MS = 10_000;
const ACK_TIMEOUT_MS = 10_000;

/** The server refuses a handshake with the envelope's error body (retry hint included) as the error's `data`. */
function handshakeError(error: unknown): ErrorBody {
  const data: unknown = error instanceof Error && "data" in error ? error.data : undefined;
  if (data && typeof data === "object" && "code" in data && "message" in data) {
    const { code, message } = data;
    const known = ERROR_CODES.find((candidate) => candidate === code);
    const details = "details" in data ? data.details : undefined;
    if (known && typeof message === "string") return { code: known, message, details };
  }
  return UNREACHABLE;
}

type ModeratorSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** One connection attempt as the moderator to the seminar. */
async function connectOnce(seminarId: string, token: string): Promise<Result<ModeratorSocket>> {
  const socket: ModeratorSocket = io(window.location.origin, {
    auth: { token, seminarId },
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    reconnection: false,
    timeout: CONNECT_TIMEOUT_MS,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", (error) => reject(error));
    });
    return { ok: true, data: socket };
  } catch (error) {
    socket.disconnect();
    return { ok: false, error: handshakeError(error) };
  }
}

/** Connects as the moderator to the seminar (following retry hints), runs `send`, and disconnects. */
async function withModeratorSocket<T>(
  seminarId: string,
  send: (socket: ModeratorSocket) => Promise<Result<T>>,
): Promise<Result<T>> {
  const account = await freshAccount();
  if (!account) return { ok: false, error: { code: "unauthenticated", message: "Please sign in again." } };
  // A busy node refuses the handshake `unavailable` with a retry hint: connect again after it.
  const connected = await followingHints(
    () => connectOnce(seminarId, account.token),
    (attempt) => (attempt.ok ? undefined : busyHint(attempt.error)),
  );
  if (!connected.ok) return connected;
  const socket = connected.data;
  try {
    return await send(socket);
  } catch {
    return { ok: false, error: { code: "unavailable", message: "The server did not answer. Try again." } };
  } finally {
    socket.disconnect();
  }
}

/** Adds a draft prompt to the seminar (`prompt:create`; a draft or live seminar). Validates first. */
export async function createPrompt(
  seminarId: string,
  input: z.input<typeof PromptCreateInput>,
): Promise<Result<PromptView>> {
  const parsed = PromptCreateInput.safeParse(input);
  if (!parsed.success) return { ok: false, error: validationError(parsed.error) };
  return withModeratorSocket(seminarId, (socket) =>
    socket.timeout(ACK_TIMEOUT_MS).emitWithAck("prompt:create", parsed.data),
  );
}

/** Replaces a draft prompt's definition (`prompt:update`; refused `conflict` once opened). Validates first. */
export async function updatePrompt(
  seminarId: string,
  input: z.input<typeof PromptUpdateInput>,
): Promise<Result<PromptView>> {
  const parsed = PromptUpdateInput.safeParse(input);
  if (!parsed.success) return { ok: false, error: validationError(parsed.error) };
  return withModeratorSocket(seminarId, (socket) =>
    socket.timeout(ACK_TIMEOUT_MS).emitWithAck("prompt:update", parsed.data),
  );
}

/** Deletes a draft prompt (`prompt:delete`; refused `conflict` once opened). */
export async function deletePrompt(
  seminarId: string,
  promptId: string,
): Promise<Result<{ promptId: string }>> {
  const parsed = PromptRefInput.safeParse({ promptId });
  if (!parsed.success) return { ok: false, error: validationError(parsed.error) };
  return withModeratorSocket(seminarId, (socket) =>
    socket.timeout(ACK_TIMEOUT_MS).emitWithAck("prompt:delete", parsed.data),
  );
}
