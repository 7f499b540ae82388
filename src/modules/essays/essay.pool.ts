import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { AppError, UNAVAILABLE_RETRY_AFTER_MS } from "../../errors.ts";
import type { ImportedEssay, ImportOptions } from "./essay.importer.ts";

/** What the worker answers: the essay, or the importer's refusal as data. */
type WorkerAnswer = { ok: true; essay: ImportedEssay } | { ok: false; message: string; details: unknown };

/** Imports waiting for a thread beyond this many are refused with `unavailable` (a retry hint). */
export const ESSAY_QUEUE_LIMIT = 32;
/** An import taking longer than this is stopped (its thread is replaced) and refused (ms). */
export const ESSAY_IMPORT_TIMEOUT_MS = 10_000;

let pool: Piscina | undefined;

/**
 * The worker pool, started on first use. One thread fewer than the cores (at least one, at most
 * four) so the event loop keeps a core; idle threads end after 30 s and never keep the process alive.
 */
function essayPool(): Piscina {
  pool ??= new Piscina({
    // From the sources (a .ts module) the worker goes through tsx; the compiled server has the
    // worker bundled beside it (scripts/build.mjs entry point essay.worker).
    filename: new URL(
      import.meta.url.endsWith(".ts") ? "./essay.worker.mjs" : "./essay.worker.js",
      import.meta.url,
    ).href,
    minThreads: 0,
    maxThreads: Math.min(4, Math.max(1, availableParallelism() - 1)),
    idleTimeout: 30_000,
    maxQueue: ESSAY_QUEUE_LIMIT,
  });
  return pool;
}

/**
 * Runs the essay importer on a worker thread, so a long import (0.3-0.7 s for hostile input near
 * the size limit) never stalls the event loop that serves every room. `validation_failed` with
 * the importer's details for input it refuses or that takes too long; `unavailable` (retryable)
 * when the queue is full.
 */
export async function importEssayOffThread(source: string, options: ImportOptions): Promise<ImportedEssay> {
  let answer: WorkerAnswer;
  try {
    answer = await essayPool().run(
      { source, options },
      { signal: AbortSignal.timeout(ESSAY_IMPORT_TIMEOUT_MS) },
    );
  } catch (error) {
    if (error instanceof Error && error.name === "AbortError") {
      throw new AppError("validation_failed", "The essay took too long to import.", { reason: "timeout" });
    }
    if (error instanceof Error && /queue is at limit/i.test(error.message)) {
      throw new AppError("unavailable", "The essay importer is busy; try again.", {
        retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS,
      });
    }
    throw error;
  }
  if (!answer.ok) throw new AppError("validation_failed", answer.message, answer.details);
  return answer.essay;
}
