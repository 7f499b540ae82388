/**
 * Where transcript downloads are built: on export threads (a piscina pool of at most
 * LIMITS.concurrentTranscripts threads, each with its own small database pool, running at a lower
 * priority than the event loop), so an export never holds up the live rooms served by this
 * process. Without a database URL to give the threads (the embedded database is one session that
 * only the main connection may use) the same code runs on the main thread instead, a page per
 * turn of the event loop. Either way the bytes come through a MessagePort (transcript.stream.ts)
 * and are written into the response at the pace the client reads them; a client that goes away
 * cancels its export, which frees its place.
 */
import { availableParallelism } from "node:os";
import { MessageChannel } from "node:worker_threads";
import { create as contentDisposition } from "content-disposition";
import type { Response } from "express";
import { Piscina } from "piscina";
import type { PrismaClient } from "../../db/client.ts";
import { AppError } from "../../errors.ts";
import { ConcurrencyLimit } from "../../http/rate-limit.ts";
import type { Logger } from "../../logger.ts";
import { LIMITS } from "../../protocol/limits.ts";
import {
  type ExportMessage,
  type ExportOutcome,
  type ResponseMessage,
  streamTranscript,
  type TranscriptJob,
} from "./transcript.stream.ts";
import type { ExportTask } from "./transcript.worker.ts";

/**
 * An export thread's V8 heap limits (MB). A download holds a page of rows and a chunk of text at a
 * time, nearly all of it garbage a page later: the young generation is sized so that a page dies
 * young (at 8 MB, pages were promoted and the thread spent a quarter of a JSON export collecting
 * them; 64 MB took a JSON export of the bench's goal size from 5.6-5.9 s to 5.0-5.2 s, for about
 * 20 MB more resident memory while it runs), the old generation capped (docs/benchmarks.md,
 * Transcripts).
 */
export const EXPORT_HEAP = { maxYoungGenerationSizeMb: 64, maxOldGenerationSizeMb: 128 };

/**
 * Export threads: one core fewer than the machine has (at least one), at most one per download
 * place; the places are shared out among them (on two cores: one thread interleaving up to four
 * downloads, which mostly wait for the database). Starting a thread costs the time to load the
 * module graph and open connections, so threads are not started ahead of a download they can take.
 */
export const EXPORT_THREADS = Math.min(LIMITS.concurrentTranscripts, Math.max(1, availableParallelism() - 1));
export const EXPORTS_PER_THREAD = Math.ceil(LIMITS.concurrentTranscripts / EXPORT_THREADS);

/** Export threads end after this long without a download (ms), closing their connections. */
const EXPORT_IDLE_MS = 60_000;

/** Transcript downloads of one server process. */
export class TranscriptExports {
  private readonly places = new ConcurrencyLimit(LIMITS.concurrentTranscripts);
  private readonly threads: { pool: Piscina; databaseUrl: string } | undefined;
  private exporting = 0;

  /**
   * `databaseUrl`: what export threads connect to; undefined runs exports on the main thread with
   * `prisma` (the embedded database).
   */
  constructor(
    private readonly options: { databaseUrl: string | undefined; prisma: PrismaClient; logger: Logger },
  ) {
    if (options.databaseUrl) {
      const pool = new Piscina({
        // From the sources (a .ts module) the worker goes through tsx; the compiled server has the
        // worker bundled beside it (scripts/build.mjs entry point transcript.worker).
        filename: new URL(
          import.meta.url.endsWith(".ts") ? "./transcript.worker.mjs" : "./transcript.worker.js",
          import.meta.url,
        ).href,
        minThreads: 0,
        maxThreads: EXPORT_THREADS,
        concurrentTasksPerWorker: EXPORTS_PER_THREAD,
        idleTimeout: EXPORT_IDLE_MS,
        resourceLimits: EXPORT_HEAP,
      });
      this.threads = { pool, databaseUrl: options.databaseUrl };
    }
  }

  /** Exports being built right now (each holds a place, and a thread when there are threads). */
  get running(): number {
    return this.exporting;
  }

  /**
   * Takes one of the process's places for a download; `rate_limited` (retryable) when all are
   * taken. The place is given back by the returned function (after `send` has settled).
   */
  admit(): () => void {
    return this.places.take();
  }

  /**
   * Builds the download and writes it into `res`. Rejects before any byte with the export's
   * refusal (forbidden when access changed meanwhile, unavailable, …) for the route to answer;
   * after the first byte a failure cuts the response off. Settles once the export has stopped:
   * finished, failed, or cancelled because the client went away.
   */
  async send(job: TranscriptJob, res: Response): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    const tell = (message: ResponseMessage, transfer: ArrayBuffer[] = []) =>
      port1.postMessage(message, transfer);
    this.exporting++;
    let built: Promise<ExportOutcome>;
    try {
      const { threads } = this;
      built = threads
        ? threads.pool.run(
            {
              ...job,
              databaseUrl: threads.databaseUrl,
              connections: EXPORTS_PER_THREAD + 1,
              port: port2,
            } satisfies ExportTask,
            { transferList: [port2] },
          )
        : streamTranscript(port2, { db: this.options.prisma }, job);
    } catch (error) {
      this.exporting--;
      throw error;
    }
    const stopped = built.finally(() => {
      this.exporting--;
    });

    let started = false;
    let finished = false;
    let settled = false;
    const written = new Promise<void>((resolve, reject) => {
      const settle = (error?: AppError) => {
        if (settled) return;
        settled = true;
        port1.close();
        if (error) reject(error);
        else resolve();
      };
      res.once("close", () => {
        if (!finished) tell({ type: "cancel" });
        if (started) settle();
      });
      port1.on("message", (message: ExportMessage) => {
        if (settled) return;
        switch (message.type) {
          case "start":
            started = true;
            res.status(200).set({
              "content-type": message.contentType,
              "content-disposition": contentDisposition(message.fileName.name, {
                fallback: message.fileName.ascii,
              }),
              "cache-control": "no-store",
            });
            break;
          case "chunk": {
            // Credit goes back once the chunk is written out (the callback: handed to the kernel),
            // with its buffer, which the export fills again.
            const { bytes } = message;
            res.write(Buffer.from(bytes, 0, message.length), () => {
              if (!settled) tell({ type: "more", bytes }, [bytes]);
            });
            break;
          }
          case "end":
            finished = true;
            res.end();
            break;
          case "failed":
            // Headers are out: the only honest answer left is to cut the response off.
            this.options.logger.warn(
              { err: message.problem, format: job.request.format },
              "transcript cut off",
            );
            res.destroy();
            break;
        }
      });
      // The outcome comes on another channel than the bytes: it settles only what sends no bytes.
      stopped.then(
        (outcome) => {
          if (outcome.kind === "refused") {
            if (outcome.problem) this.options.logger.error({ err: outcome.problem }, "transcript refused");
            settle(new AppError(outcome.body.code, outcome.body.message, outcome.body.details));
          } else if (outcome.kind === "cancelled" && !started) {
            settle();
          }
        },
        (error: unknown) => {
          // The export thread died (or the pool closed) without a word: cut off, or answer internal.
          this.options.logger.error({ err: error }, "transcript export stopped");
          if (started) res.destroy();
          else settle(new AppError("internal", "Something went wrong on our side."));
        },
      );
    });
    try {
      await written;
    } finally {
      await stopped.catch(() => undefined);
    }
  }

  /** Stops the export threads (downloads still running are cut off). */
  async close(): Promise<void> {
    await this.threads?.pool.destroy();
  }
}
