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

describe("running together at the gate", () => {
  it("serves requests of a key that wait at the same moment in one turn, each with its own answer", async () => {
    const gate = new Admission({ slots: 1, maxWaitMs: 5_000 });
    const stuck = held();
    const running = gate.run(stuck.work);
    const turns: number[][] = [];
    const square = (items: number[]) => {
      turns.push(items);
      return Promise.resolve(items.map((n) => (n < 0 ? new AppError("not_found", "negative") : n * n)));
    };
    const asked = [1, 2, -3, 4].map((n) =>
      gate.together("squares", n, square).catch((error: unknown) => error),
    );
    // Another key waits on its own.
    const other = gate.together("other", 5, square);
    stuck.finish();
    await running;
    const answers = await Promise.all(asked);
    expect(answers.slice(0, 2)).toEqual([1, 4]);
    expect(answers[2]).toMatchObject({ code: "not_found" });
    expect(answers[3]).toBe(16);
    expect(await other).toBe(25);
    expect(turns).toEqual([[1, 2, -3, 4], [5]]);
  });

  it("takes at most `max` in a turn and the rest in the next", async () => {
    const gate = new Admission({ slots: 1, maxWaitMs: 5_000 });
    const stuck = held();
    const running = gate.run(stuck.work);
    const turns: number[][] = [];
    const echo = async (items: number[]) => {
      turns.push(items);
      return items;
    };
    const asked = [1, 2, 3, 4, 5].map((n) => gate.together("echo", n, echo, { max: 2 }));
    stuck.finish();
    await running;
    expect(await Promise.all(asked)).toEqual([1, 2, 3, 4, 5]);
    expect(turns).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("answers everyone waiting together unavailable when the turn does not come in time", async () => {
    const gate = new Admission({ slots: 1, maxWaitMs: 200 });
    const stuck = held();
    const running = gate.run(stuck.work);
    let ran = false;
    const asked = [1, 2, 3].map((n) =>
      gate
        .together("late", n, async (items: number[]) => {
          ran = true;
          return items;
        })
        .catch((error: unknown) => error),
    );
    const answers = await Promise.all(asked);
    for (const answer of answers) expect(answer).toMatchObject({ code: "unavailable" });
    stuck.finish();
    await running;
    expect(ran).toBe(false);
  });

  it("answers a request left waiting with its key's later turns unavailable in time, and never runs it", async () => {
    // Two slow turns of one key run (the most at once); requests beyond a turn's size wait with
    // the key, not at the gate. They too are answered within maxWaitMs.
    const gate = new Admission({ slots: 8, maxWaitMs: 200 });
    const holds: (() => void)[] = [];
    const ran: number[] = [];
    const slow = (items: number[]) => {
      ran.push(...items);
      return new Promise<number[]>((resolve) => holds.push(() => resolve(items)));
    };
    const running = [gate.together("slow", 1, slow, { max: 1 }), gate.together("slow", 2, slow, { max: 1 })];
    await expect.poll(() => holds.length).toBe(2);
    const left = [3, 4].map((n) =>
      gate.together("slow", n, slow, { max: 1 }).catch((error: unknown) => error),
    );
    const answers = await Promise.all(left);
    for (const answer of answers) expect(answer).toMatchObject({ code: "unavailable" });
    for (const answer of answers)
      expect((answer as AppError).details).toMatchObject({ retryAfterMs: expect.any(Number) });
    for (const release of holds.splice(0)) release();
    expect(await Promise.all(running)).toEqual([1, 2]);
    expect(ran).toEqual([1, 2]);
    expect(gate.stats()).toMatchObject({ waiting: 0, groups: 0 });
  });

  it("runs at most two turns of a key at once, even with slots free; later requests go together", async () => {
    const gate = new Admission({ slots: 8, maxWaitMs: 5_000 });
    const turns: number[][] = [];
    const holds: (() => void)[] = [];
    const slow = (items: number[]) => {
      turns.push(items);
      return new Promise<number[]>((resolve) => holds.push(() => resolve(items)));
    };
    const tick = () => new Promise((resolve) => setTimeout(resolve, 10));
    const asked = [gate.together("slow", 1, slow)];
    await tick();
    asked.push(gate.together("slow", 2, slow));
    await tick();
    asked.push(...[3, 4, 5].map((n) => gate.together("slow", n, slow)));
    await tick();
    expect(turns).toEqual([[1], [2]]);
    holds.shift()!();
    await tick();
    expect(turns).toEqual([[1], [2], [3, 4, 5]]);
    for (const release of holds.splice(0)) release();
    expect(await Promise.all(asked)).toEqual([1, 2, 3, 4, 5]);
  });

  it("holds a busy key's next turn for its spacing, so that those arriving meanwhile go in one turn", async () => {
    const gate = new Admission({ slots: 8, maxWaitMs: 5_000 });
    const turns: { items: number[]; at: number }[] = [];
    const echo = async (items: number[]) => {
      turns.push({ items, at: performance.now() });
      return items;
    };
    const spaced = { spacingMs: 80 };
    // A key nobody asked for lately: served at once.
    const asked = performance.now();
    expect(await gate.together("spaced", 1, echo, spaced)).toBe(1);
    expect(turns[0]!.at - asked).toBeLessThan(80);
    // Asked for again within the spacing: the next turn waits for it to pass, with all who came.
    const later = await Promise.all([2, 3, 4].map((n) => gate.together("spaced", n, echo, spaced)));
    expect(later).toEqual([2, 3, 4]);
    expect(turns.map((turn) => turn.items)).toEqual([[1], [2, 3, 4]]);
    // (Timers keep the loop's millisecond clock, which may lag performance.now() by about 1 ms.)
    expect(turns[1]!.at - turns[0]!.at).toBeGreaterThanOrEqual(75);
    // Once nobody waits and the spacing is over, the key is forgotten.
    await expect.poll(() => gate.stats().groups).toBe(0);
  });

  it("starts a held turn at once when a whole turn's worth is waiting", async () => {
    const gate = new Admission({ slots: 8, maxWaitMs: 60_000 });
    const turns: number[][] = [];
    const echo = async (items: number[]) => {
      turns.push(items);
      return items;
    };
    // A spacing longer than the test may take: only a full turn can start it.
    const options = { spacingMs: 30_000, max: 3 };
    expect(await gate.together("full", 1, echo, options)).toBe(1);
    expect(await Promise.all([2, 3, 4].map((n) => gate.together("full", n, echo, options)))).toEqual([
      2, 3, 4,
    ]);
    expect(turns).toEqual([[1], [2, 3, 4]]);
  });
});
