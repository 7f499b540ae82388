import { ensureClientBuild } from "../../scripts/client-build.ts";

/**
 * Builds the web client once per test run when client/dist is missing or older than its sources,
 * so the server under test serves what the sources say.
 */
export default async function setup(): Promise<void> {
  await ensureClientBuild("stale");
}
