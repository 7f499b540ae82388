/**
 * One download written into a MessagePort: what an export thread (transcript.worker.ts) runs, and
 * what the main thread runs itself when there is no export thread (the embedded database). The
 * other end of the port (transcript.exports.ts) writes the bytes into the HTTP response.
 *
 * The conversation, export side → response side:
 * - `start` with the content type and file name, once access is checked and the head is read
 *   (a refusal before that is the export's outcome instead: the route answers it in the usual
 *   envelope, no byte having been sent);
 * - `chunk`s of CHUNK_BYTES (the last one may be shorter), each an ArrayBuffer moved across, not
 *   copied (the transfer list); a page rendered larger than that goes in several;
 * - `end` after the last chunk, or `failed` when reading broke off after `start` (the response is
 *   then cut off, never a complete-looking file).
 * Response side → export side: `more` after each chunk has been written out (the socket took it,
 *   or drained), and `cancel` when the client went away. At most WINDOW chunks are in flight, so
 *   a slow reader slows the reading of the database down and memory stays bounded.
 */
import type { MessagePort } from "node:worker_threads";
import { toErrorBody } from "../../errors.ts";
import type { ErrorBody } from "../../protocol/result.ts";
import type { TranscriptFormat, TranscriptTable } from "../../protocol/transcripts.ts";
import type { Actor } from "../seminars/seminars.policy.ts";
import { renderTranscript } from "./transcript.files.ts";
import { openTranscript, type TranscriptReader } from "./transcripts.service.ts";

/** What to export, for whom. Plain data: it crosses to the export thread. */
export interface TranscriptJob {
  actor: Actor;
  request: { format: TranscriptFormat; table?: TranscriptTable; anonymized: boolean };
  /** The JSON-LD collection's IRI (the download's own URL). */
  collectionId: string;
  /** The JWT secret (pseudonym keys) and public URL, as the main thread knows them. */
  secret: string;
  publicUrl: string;
}

/** Export side → response side. */
export type ExportMessage =
  | { type: "start"; contentType: string; fileName: { name: string; ascii: string } }
  /** `length` bytes at the start of `bytes` (a buffer of CHUNK_BYTES, moved, and given back with `more`). */
  | { type: "chunk"; bytes: ArrayBuffer; length: number }
  | { type: "end" }
  | { type: "failed"; problem: string };

/** Response side → export side. */
export type ResponseMessage = { type: "more"; bytes?: ArrayBuffer } | { type: "cancel" };

/**
 * How a download ended, as the export side saw it. `refused`: before `start`, with the error body
 * to answer and, for an unexpected error (the body then says only "internal"), what to log.
 */
export type ExportOutcome =
  | { kind: "done" | "cancelled" | "failed" }
  | { kind: "refused"; body: ErrorBody; problem?: string };

/**
 * Bytes per chunk sent across: few, large messages, so the event loop spends little per byte. A
 * page rendered larger goes in several, so that WINDOW chunks bound what a download has in flight.
 */
export const CHUNK_BYTES = 128 * 1024;
/** Chunks sent and not yet written out, at most. */
export const WINDOW = 4;

/**
 * Reads the transcript for `job.actor` from `reader.db`, renders it and sends it through `port`,
 * respecting the response side's pace; resolves with how it ended (never rejects). The port is
 * closed at the end.
 */
export async function streamTranscript(
  port: MessagePort,
  reader: Omit<TranscriptReader, "secret" | "publicUrl">,
  job: TranscriptJob,
): Promise<ExportOutcome> {
  let credit = WINDOW;
  let cancelled = false;
  let wake: (() => void) | undefined;
  /**
   * Chunk buffers the response side has written out and given back: a download moves the same
   * WINDOW buffers back and forth, so neither thread allocates (nor collects) a buffer per chunk.
   * (Moved buffers that the event loop let go of were 37 MB of external memory per JSON export,
   * which set off its incremental marking every second or so: docs/benchmarks.md, Transcripts.)
   */
  const spare: ArrayBuffer[] = [];
  port.on("message", (message: ResponseMessage) => {
    if (message.type === "more") {
      credit++;
      if (message.bytes) spare.push(message.bytes);
    } else cancelled = true;
    wake?.();
  });
  const send = (message: ExportMessage, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);
  /** Waits until a chunk may be sent; false when the download was cancelled meanwhile. */
  const mayWrite = async (): Promise<boolean> => {
    while (credit === 0 && !cancelled) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    return !cancelled;
  };

  let started = false;
  try {
    const source = await openTranscript(
      { db: reader.db, secret: job.secret, publicUrl: job.publicUrl },
      job.actor,
      { anonymized: job.request.anonymized },
    );
    if (cancelled) return { kind: "cancelled" };
    const file = renderTranscript(source, job.request, job.collectionId);
    send({ type: "start", contentType: file.contentType, fileName: file.fileName });
    started = true;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    /** Sends what is pending in chunks of at most CHUNK_BYTES (all of it, or only full chunks). */
    const flush = async (all: boolean): Promise<boolean> => {
      while (pendingBytes >= CHUNK_BYTES || (all && pendingBytes > 0)) {
        if (!(await mayWrite())) return false;
        const size = Math.min(pendingBytes, CHUNK_BYTES);
        const bytes = spare.pop() ?? new ArrayBuffer(CHUNK_BYTES);
        pending = takeBytes(pending, size, new Uint8Array(bytes));
        pendingBytes -= size;
        credit--;
        send({ type: "chunk", bytes, length: size }, [bytes]);
      }
      return !cancelled;
    };
    try {
      for await (const piece of file.body as AsyncIterable<Buffer>) {
        if (cancelled) break;
        pending.push(piece);
        pendingBytes += piece.byteLength;
        if (pendingBytes >= CHUNK_BYTES && !(await flush(false))) break;
      }
      if (!cancelled) await flush(true);
    } finally {
      // Stops the reading where it is (a generator's finally, the zip's entry streams).
      file.body.destroy();
    }
    if (cancelled) return { kind: "cancelled" };
    send({ type: "end" });
    return { kind: "done" };
  } catch (error) {
    if (cancelled) return { kind: "cancelled" };
    const problem = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (!started) {
      const { body, unknown } = toErrorBody(error);
      return { kind: "refused", body, ...(unknown ? { problem } : {}) };
    }
    send({ type: "failed", problem });
    return { kind: "failed" };
  } finally {
    port.close();
  }
}

/**
 * Copies the first `size` bytes of the pieces into `into` (at least `size` long) and returns the
 * pieces that remain, in order.
 */
export function takeBytes(pieces: readonly Buffer[], size: number, into: Uint8Array): Buffer[] {
  let offset = 0;
  let index = 0;
  const rest: Buffer[] = [];
  for (; index < pieces.length && offset < size; index++) {
    const piece = pieces[index]!;
    const used = Math.min(piece.byteLength, size - offset);
    into.set(piece.subarray(0, used), offset);
    offset += used;
    if (used < piece.byteLength) rest.push(piece.subarray(used));
  }
  rest.push(...pieces.slice(index));
  return rest;
}
