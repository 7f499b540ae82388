/**
 * The REST calls of the moderator's preparing pages, as the signed-in account (`accountFetch`):
 * list and create seminars, preview and replace an essay, start, transcript settings and
 * downloads. Inputs are parsed with the server's own schemas before they leave.
 */
import type { z } from "zod";
import type { Result } from "../../../src/protocol/result.ts";
import { CreateSeminarInput, EssayInput } from "../../../src/protocol/schemas.ts";
import {
  SeminarSettingsInput,
  type TranscriptFormat,
  type TranscriptTable,
} from "../../../src/protocol/transcripts.ts";
import type { BlockKind, EssayView, RoomSnapshot, SeminarView } from "../../../src/protocol/views.ts";
import { type AccountSession, accountFetch, freshAccount } from "./account.ts";
import { validationError } from "./api.ts";
import { send } from "./http.ts";

/** What POST /api/essays/preview answers: the importer's structure, nothing stored. */
export interface EssayPreview {
  title: string;
  byline: string | null;
  dateline: string | null;
  language: string | null;
  format: "text" | "markdown";
  blocks: { position: number; kind: BlockKind; level: number | null; text: string; length: number }[];
  counts: {
    paragraphs: number;
    headings: number;
    sectionMarkers: number;
    captions: number;
    quotes: number;
    listItems: number;
  };
}

const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body) });

/** The signed-in moderator's seminars (every state), newest first as the server lists them. */
export function listSeminars(): Promise<Result<SeminarView[]>> {
  return accountFetch<SeminarView[]>("/api/seminars");
}

/** One seminar as its moderator sees it: the room snapshot (seminar, essay, prompts, members). */
export function getSeminar(seminarId: string): Promise<Result<RoomSnapshot>> {
  return accountFetch<RoomSnapshot>(`/api/seminars/${encodeURIComponent(seminarId)}`);
}

/** What the importer makes of a text. */
export async function previewEssay(input: z.input<typeof EssayInput>): Promise<Result<EssayPreview>> {
  const parsed = EssayInput.safeParse(input);
  if (!parsed.success) return { ok: false, error: validationError(parsed.error) };
  return accountFetch<EssayPreview>("/api/essays/preview", json("POST", parsed.data));
}

/** Creates a draft seminar with its essay and prompts. */
export async function createSeminar(input: z.input<typeof CreateSeminarInput>): Promise<Result<SeminarView>> {
  const parsed = CreateSeminarInput.safeParse(input);
  if (!parsed.success) return { ok: false, error: validationError(parsed.error) };
  return accountFetch<SeminarView>("/api/seminars", json("POST", parsed.data));
}

/** Replaces a draft's essay (refused with `conflict` once the session started). */
export async function replaceEssay(
  seminarId: string,
  input: z.input<typeof EssayInput>,
): Promise<Result<EssayView>> {
  const parsed = EssayInput.safeParse(input);
  if (!parsed.success) return { ok: false, error: validationError(parsed.error) };
  return accountFetch<EssayView>(
    `/api/seminars/${encodeURIComponent(seminarId)}/essay`,
    json("PUT", parsed.data),
  );
}

/** Starts the session: the essay freezes and participants can write. */
export function startSeminar(seminarId: string): Promise<Result<SeminarView>> {
  return accountFetch<SeminarView>(`/api/seminars/${encodeURIComponent(seminarId)}/start`, {
    method: "POST",
  });
}

/** Changes the seminar's settings (whether participants may download the transcript). */
export async function updateSettings(
  seminarId: string,
  input: z.input<typeof SeminarSettingsInput>,
): Promise<Result<SeminarView>> {
  const parsed = SeminarSettingsInput.safeParse(input);
  if (!parsed.success) return { ok: false, error: validationError(parsed.error) };
  return accountFetch<SeminarView>(
    `/api/seminars/${encodeURIComponent(seminarId)}/settings`,
    json("PATCH", parsed.data),
  );
}

/** Which transcript to download. */
export interface TranscriptRequest {
  format: TranscriptFormat;
  anonymized: boolean;
  /** CSV only. */
  table?: TranscriptTable;
}

/** The URL of a transcript download (the server's query, docs/transcripts.md). */
export function transcriptPath(seminarId: string, request: TranscriptRequest): string {
  const query = new URLSearchParams({ format: request.format });
  if (request.anonymized) query.set("anonymized", "true");
  if (request.format === "csv" && request.table) query.set("table", request.table);
  return `/api/seminars/${encodeURIComponent(seminarId)}/transcript?${query}`;
}

/** The file name from `Content-Disposition` (`filename*` in UTF-8 first, then `filename`). */
export function attachmentName(header: string | null, fallback: string): string {
  if (!header) return fallback;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!.trim());
    } catch {
      // A malformed escape: use the plain name.
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"/i.exec(header) ?? /filename\s*=\s*([^;]+)/i.exec(header);
  return plain?.[1]?.trim() || fallback;
}

/**
 * Downloads a transcript with the account's token (a plain link cannot carry it) and hands it to
 * the browser as a file. Refusals come back in the envelope, before any file; a busy server's
 * retry hints are followed (http.ts).
 */
export async function downloadTranscript(
  seminarId: string,
  request: TranscriptRequest,
): Promise<Result<{ filename: string }>> {
  const account: AccountSession | null = await freshAccount();
  if (!account) return { ok: false, error: { code: "unauthenticated", message: "Please sign in again." } };
  const sent = await send(transcriptPath(seminarId, request), {
    headers: { authorization: `Bearer ${account.token}` },
  });
  if (!sent.ok) return { ok: false, error: sent.error };
  const { response } = sent;
  const filename = attachmentName(
    response.headers.get("content-disposition"),
    `transcript.${request.format}`,
  );
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The click has started the download; the object URL can go once it has been read.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { ok: true, data: { filename } };
}
