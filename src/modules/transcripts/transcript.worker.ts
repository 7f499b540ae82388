/**
 * The transcript export thread (run by the pool in transcript.exports.ts): reads and renders one
 * download with this thread's own database connections and sends its bytes back through the
 * task's MessagePort (transcript.stream.ts), so building a transcript never runs on the event loop
 * that serves the rooms. Built as its own entry point (dist/server/transcript.worker.js) for the
 * compiled server; from the sources, transcript.worker.mjs loads this file through tsx.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { isMainThread, type MessagePort } from "node:worker_threads";
import { createPrismaClient, type PrismaClient } from "../../db/client.ts";
import { type ExportOutcome, streamTranscript, type TranscriptJob } from "./transcript.stream.ts";

/** A task: the job, the database to read it from, and the port its bytes go through. */
export interface ExportTask extends TranscriptJob {
  databaseUrl: string;
  /**
   * Connections of this thread's pool (opened on the first task): about one per download it
   * interleaves, as each reads one page at a time.
   */
  connections: number;
  port: MessagePort;
}

/**
 * How much less CPU this thread asks for than the event loop (Linux nice, per thread): when both
 * want the core, the live room's commands run first and the export takes the rest. The lowest
 * (19, a weight of 15 against the event loop's 1,024; it was 10, a weight of 110): the acks of a
 * room whose transcript is being downloaded moved from 1.49-1.55× to 1.24-1.39× their quiet p50 in
 * the bench's transcript scenario, and an export alone is as fast (docs/benchmarks.md).
 */
export const EXPORT_NICENESS = 19;

let database: { url: string; client: PrismaClient } | undefined;

function databaseFor(url: string, connections: number): PrismaClient {
  if (database?.url !== url) {
    void database?.client.$disconnect();
    database = {
      url,
      client: createPrismaClient(url, {
        maxConnections: connections,
        applicationName: "stepstone-export",
      }),
    };
  }
  return database.client;
}

/**
 * Lowers this thread's priority. On Linux a thread's nice value is its own (set through its
 * thread id, /proc/thread-self); elsewhere, or where not allowed, the thread keeps the default.
 */
function yieldToTheRooms(): void {
  // On the main thread the thread id is the process id: never lower the event loop itself.
  if (isMainThread) return;
  try {
    const threadId = Number(readlinkSync("/proc/thread-self").split("/").at(-1));
    if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, EXPORT_NICENESS);
  } catch {
    // Not Linux, or not permitted: same priority as the event loop.
  }
}

yieldToTheRooms();

/** Runs one export; resolves with how it ended. */
export default function exportTranscript(task: ExportTask): Promise<ExportOutcome> {
  const { databaseUrl, connections, port, ...job } = task;
  return streamTranscript(port, { db: databaseFor(databaseUrl, connections) }, job);
}
