import { describe, expect, it } from "vitest";
import { AppError } from "../errors.ts";
import { Admission } from "./admission.ts";

/** A piece of work that runs until the test lets it finish. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { work: () => done.then(() => "held"), finish };
}

describe("the admission gate", () => {
  it("runs at most its slots at once and the rest in arrival order", async () => {
    const gate = new Admission({ slots: 2, maxWaitMs: 5_000 });
    const order: number[] = [];
    const first = held();
    const second = held();
    const running = [gate.run(first.work), gate.run(second.work)];
    const queued = [3, 4, 5].map((n) => gate.run(async () => order.push(n)));
    expect(gate.stats()).toMatchObject({ running: 2, waiting: 3 });
    first.finish();
    second.finish();
    await Promise.all([...running, ...queued]);
    expect(order).toEqual([3, 4, 5]);
    expect(gate.stats()).toMatchObject({ refused: 0, peakWaiting: 3 });
  });

  it("answers a request still waiting after maxWaitMs unavailable with a hint, and never runs it", async () => {
    const gate = new Admission({ slots: 1, maxWaitMs: 300 });
    const stuck = held();
    const running = gate.run(stuck.work);
    let ran = false;
    const waiting = gate.run(async () => {
      ran = true;
    });
    const refusal = await waiting.catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ code: "unavailable" });
    const { retryAfterMs } = (refusal as AppError).details as { retryAfterMs: number };
    // At least the wait it had (the running request may be stuck), spread by up to a quarter.
    expect(retryAfterMs).toBeGreaterThanOrEqual(300);
    expect(retryAfterMs).toBeLessThanOrEqual(375);
    stuck.finish();
    await running;
    // Its turn came and passed without running it.
    await gate.run(async () => {});
    expect(ran).toBe(false);
    expect(gate.stats().refused).toBe(1);
  });
});
