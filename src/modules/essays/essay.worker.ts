/**
 * The essay importer in a worker thread (run by the pool in essay.pool.ts). Built as its own entry
 * point (dist/server/essay.worker.js) for the compiled server; from the sources, essay.worker.mjs
 * loads this file through tsx.
 */
import { EssayImportError, type ImportOptions, importEssay } from "./essay.importer.ts";

/**
 * Imports one essay. Errors do not cross threads with their class and fields, so a refusal is
 * returned as data: `{ ok: true, essay }` or `{ ok: false, message, details }`.
 */
export default function importInWorker({ source, options }: { source: string; options: ImportOptions }) {
  try {
    return { ok: true as const, essay: importEssay(source, options) };
  } catch (error) {
    if (error instanceof EssayImportError)
      return { ok: false as const, message: error.message, details: error.details };
    throw error;
  }
}
