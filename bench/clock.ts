/**
 * The bench clock: milliseconds of the system-wide monotonic clock (CLOCK_MONOTONIC through
 * process.hrtime), so a time taken in one process (a scheduled send in the orchestrator) can be
 * compared with one taken in another (a receipt in a worker) on the same machine.
 */

/** Milliseconds on the shared monotonic clock, with sub-millisecond precision. */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Resolves at bench time `at` (or at once when it has passed). */
export function sleepUntil(at: number): Promise<void> {
  return sleep(at - now());
}
