/**
 * The essay importer in a worker thread (run by the pool in essay.pool.ts). The importer is
 * TypeScript: tsx's tsImport loads it whether the process runs under tsx, vitest or plain node,
 * without depending on loader flags inherited from the parent.
 */
import { tsImport } from "tsx/esm/api";

const { importEssay, EssayImportError } = await tsImport("./essay.importer.ts", import.meta.url);

/**
 * Imports one essay. Errors do not cross threads with their class and fields, so a refusal is
 * returned as data: `{ ok: true, essay }` or `{ ok: false, message, details }`.
 */
export default function importInWorker({ source, options }) {
  try {
    return { ok: true, essay: importEssay(source, options) };
  } catch (error) {
    if (error instanceof EssayImportError)
      return { ok: false, message: error.message, details: error.details };
    throw error;
  }
}
