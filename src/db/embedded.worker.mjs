/**
 * The embedded PostgreSQL thread's entry when the server runs from its TypeScript sources (tsx,
 * vitest): tsx's tsImport loads embedded.worker.ts whatever loader flags the parent had. The
 * compiled server runs dist/server/embedded.worker.js instead (scripts/build.mjs).
 */
import { tsImport } from "tsx/esm/api";

await tsImport("./embedded.worker.ts", import.meta.url);
