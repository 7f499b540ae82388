import { describe, expect, it } from "vitest";
import { readAhead } from "./transcripts.service.ts";

/**
 * A source of numbered pages whose reads finish only when the test says so, recording how many
 * reads were started and whether the source was closed.
 */
function controlledPages(count: number) {
  const state = { started: 0, closed: false };
  const releases: (() => void)[] = [];
  async function* pages(): AsyncGenerator<number> {
    try {
      for (let page = 0; page < count; page++) {
        state.started++;
        await new Promise<void>((resolve) => releases.push(resolve));
        yield page;
      }
    } finally {
      state.closed = true;
    }
  }
  /** Finishes the oldest read under way, once there is one. */
  const release = async () => {
    await expect.poll(() => releases.length).toBeGreaterThan(0);
    releases.shift()?.();
  };
  return { state, pages, release };
}

describe("readAhead", () => {
  it("yields every page in order and asks for the next one before the consumer is done", async () => {
    const source = controlledPages(3);
    const reader = readAhead(source.pages());
    const first = reader.next();
    await source.release();
    expect(await first).toEqual({ done: false, value: 0 });
    // The consumer holds page 0; page 1 is being read already.
    await expect.poll(() => source.state.started).toBe(2);
    await source.release();
    expect(await reader.next()).toEqual({ done: false, value: 1 });
    await source.release();
    expect(await reader.next()).toEqual({ done: false, value: 2 });
    expect(await reader.next()).toEqual({ done: true, value: undefined });
    expect(source.state.closed).toBe(true);
  });

  it("on an early stop, waits for the read under way and closes the source", async () => {
    const source = controlledPages(10);
    const reader = readAhead(source.pages());
    const first = reader.next();
    await source.release();
    await first;
    await expect.poll(() => source.state.started).toBe(2);
    const stopped = reader.return(undefined);
    await source.release();
    await stopped;
    expect(source.state.closed).toBe(true);
    expect(source.state.started).toBe(2);
  });

  it("passes a failed read on to the consumer", async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      throw new Error("connection lost");
    }
    const pages: number[] = [];
    await expect(
      (async () => {
        for await (const page of readAhead(failing())) pages.push(page);
      })(),
    ).rejects.toThrow("connection lost");
    expect(pages).toEqual([1]);
  });
});
