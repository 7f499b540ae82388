/**
 * The worker thread's entry when the server runs from its TypeScript sources (tsx, vitest): tsx's
 * tsImport loads essay.worker.ts whatever loader flags the parent had. The compiled server runs
 * dist/server/essay.worker.js instead (scripts/build.mjs).
 */
import { tsImport } from "tsx/esm/api";

const worker = await tsImport("./essay.worker.ts", import.meta.url);

export default worker.default;
