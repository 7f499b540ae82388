/**
 * The export thread's entry when the server runs from its TypeScript sources (tsx, vitest): tsx's
 * tsImport loads transcript.worker.ts whatever loader flags the parent had. The compiled server
 * runs dist/server/transcript.worker.js instead (scripts/build.mjs).
 */
import { tsImport } from "tsx/esm/api";

const worker = await tsImport("./transcript.worker.ts", import.meta.url);

export default worker.default;
