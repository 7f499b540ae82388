import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../../tests/helpers/server.ts";
import type { TallyView } from "../../protocol/views.ts";
import type { PromptFacts } from "./prompts.policy.ts";
import type { TallyReading } from "./prompts.service.ts";
import { type TallyAudiences, TallyCoalescer } from "./tallies.ts";

const SEMINAR = "seminar-1";
const PROMPT = "prompt-1";

/** A fake database: a prompt whose version and counts the test moves, with reads that can be held. */
function fakePrompt(facts: Partial<PromptFacts> = {}) {
  const state = {
    facts: {
      state: "open",
      resultsVisibility: "live",
      revealedAt: null,
      anonymous: true,
      ...facts,
    } as PromptFacts,
    version: 0,
    counts: { yes: 0, no: 0 } as Record<string, number>,
    voters: { yes: [] as string[], no: [] as string[] },
    reads: 0,
    concurrentReads: 0,
    maxConcurrentReads: 0,
    hold: undefined as Promise<void> | undefined,
    fail: false,
  };
  const read = async (promptId: string): Promise<TallyReading | null> => {
    state.reads++;
    state.concurrentReads++;
    state.maxConcurrentReads = Math.max(state.maxConcurrentReads, state.concurrentReads);
    try {
      if (state.fail) throw new Error("database down");
      // What the read returns is what was stored when it started (a snapshot).
      const reading: TallyReading = {
        seminarId: SEMINAR,
        facts: { ...state.facts },
        tally: {
          promptId,
          version: state.version,
          counts: { ...state.counts },
          ballots: state.counts.yes! + state.counts.no!,
          voters: state.facts.anonymous ? null : structuredClone(state.voters),
        },
      };
      await state.hold;
      return reading;
    } finally {
      state.concurrentReads--;
    }
  };
  const vote = (option: "yes" | "no", member: string) => {
    state.version++;
    state.counts[option]!++;
    state.voters[option].push(member);
  };
  return { state, read, vote };
}

/** Audiences of `size` sockets that record what each would have received. */
function recordingAudiences(size = 30) {
  const sent = {
    everyone: [] as TallyView[],
    moderators: [] as TallyView[],
    participants: [] as TallyView[],
  };
  const audiences: TallyAudiences = {
    size: () => size,
    everyone: (_seminarId, tally) => sent.everyone.push(tally),
    moderators: (_seminarId, tally) => sent.moderators.push(tally),
    participants: (_seminarId, tally) => sent.participants.push(tally),
  };
  /** What a moderator's and a participant's socket received, in order. */
  const moderatorView = () => [...sent.everyone, ...sent.moderators].sort((a, b) => a.version - b.version);
  const participantView = () =>
    [...sent.everyone, ...sent.participants].sort((a, b) => a.version - b.version);
  return { sent, audiences, moderatorView, participantView };
}

/** A flush interval the tests never reach: they flush explicitly, so nothing depends on timing. */
const NEVER = 10_000;
const warnings: unknown[] = [];
const logger = { warn: (obj: unknown) => void warnings.push(obj) } as unknown as ConstructorParameters<
  typeof TallyCoalescer
>[0]["logger"];

let running: TallyCoalescer | undefined;
afterEach(async () => {
  await running?.stop({ flush: false });
  running = undefined;
  warnings.length = 0;
});

function build(prompt: ReturnType<typeof fakePrompt>, flushMs = 20, audience = 30) {
  const out = recordingAudiences(audience);
  const coalescer = new TallyCoalescer({
    read: prompt.read,
    audiences: out.audiences,
    logger,
    flushMs,
    burstMaxMs: NEVER,
  });
  running = coalescer;
  return { coalescer, ...out };
}

describe("TallyCoalescer", () => {
  it("coalesces a burst of ballots into one read and one message", async () => {
    const prompt = fakePrompt();
    const { coalescer, sent } = build(prompt);
    for (let i = 0; i < 100; i++) {
      prompt.vote(i % 3 === 0 ? "no" : "yes", `m${i}`);
      coalescer.changed(SEMINAR, PROMPT);
    }
    expect(prompt.state.reads).toBe(0);
    // The timer flushes the burst: wait for its message, then check that it took one read.
    await eventually(() => sent.everyone.length > 0, 5_000, "the coalesced tally");
    expect(prompt.state.reads).toBe(1);
    expect(sent.everyone).toEqual([
      { promptId: PROMPT, version: 100, counts: { yes: 66, no: 34 }, ballots: 100 },
    ]);
    expect(sent.moderators).toEqual([]);
  });

  it("sends a prompt's tally as soon as the ballot queue says its ballots are all written", async () => {
    const prompt = fakePrompt();
    const { coalescer, sent } = build(prompt, NEVER);
    prompt.vote("yes", "m1");
    prompt.vote("no", "m2");
    coalescer.changed(SEMINAR, PROMPT);
    coalescer.changed(SEMINAR, PROMPT);
    coalescer.settled(SEMINAR, PROMPT);
    // No interval passes (NEVER): the message comes from settled alone.
    await eventually(() => sent.everyone.length > 0, 5_000, "the settled tally");
    expect(sent.everyone.map((tally) => tally.version)).toEqual([2]);
    // A settled prompt with nothing new sends nothing.
    coalescer.settled(SEMINAR, PROMPT);
    await coalescer.flush();
    expect(sent.everyone).toHaveLength(1);
  });

  it("sends a large room's running tally less often while ballots are written, and the final one once they settle", async () => {
    const prompt = fakePrompt();
    // 200,000 sockets: a burst interval far beyond the test (burstMaxMs is NEVER here).
    const { coalescer, sent } = build(prompt, 20, 200_000);
    expect(coalescer.burstIntervalMs(SEMINAR)).toBe(NEVER);
    prompt.vote("yes", "m1");
    coalescer.changed(SEMINAR, PROMPT);
    await coalescer.flush();
    expect(sent.everyone.map((tally) => tally.version)).toEqual([1]);
    // Ballots still being written: the next flushes send nothing, and read nothing.
    prompt.vote("no", "m2");
    coalescer.changed(SEMINAR, PROMPT);
    const reads = prompt.state.reads;
    await coalescer.flush();
    await coalescer.flush();
    expect(sent.everyone).toHaveLength(1);
    expect(prompt.state.reads).toBe(reads);
    // The queue settles: the final tally goes out at the next interval at the latest.
    coalescer.settled(SEMINAR, PROMPT);
    await eventually(() => sent.everyone.length === 2, 5_000, "the final tally");
    expect(sent.everyone.map((tally) => tally.version)).toEqual([1, 2]);
  });

  it("keeps the usual interval for a small room while its ballots are written", async () => {
    const prompt = fakePrompt();
    const { coalescer, sent } = build(prompt, 20, 30);
    expect(coalescer.burstIntervalMs(SEMINAR)).toBe(20);
    prompt.vote("yes", "m1");
    coalescer.changed(SEMINAR, PROMPT);
    await coalescer.flush();
    prompt.vote("yes", "m2");
    coalescer.changed(SEMINAR, PROMPT);
    // Unsettled, yet sent once the usual interval has passed.
    await eventually(() => sent.everyone.length === 2, 5_000, "the second running tally");
    expect(sent.everyone.map((tally) => tally.version)).toEqual([1, 2]);
  });

  it("flushes again when a ballot is stored while a flush reads, and never overlaps reads", async () => {
    const prompt = fakePrompt();
    const { coalescer, moderatorView } = build(prompt, 10);
    let release!: () => void;
    prompt.state.hold = new Promise((resolve) => {
      release = resolve;
    });
    prompt.vote("yes", "a");
    coalescer.changed(SEMINAR, PROMPT);
    await eventually(() => prompt.state.reads === 1, 5_000, "the timer's read");
    // Stored after the read began: not in it, so the prompt must be flushed again.
    prompt.vote("no", "b");
    coalescer.changed(SEMINAR, PROMPT);
    // A flush now (as the timer would do) must not start a second read beside the held one.
    await coalescer.flush();
    expect(prompt.state.reads).toBe(1);
    prompt.state.hold = undefined;
    release();
    await eventually(() => moderatorView().length === 2, 5_000, "the second tally");
    expect(prompt.state.maxConcurrentReads).toBe(1);
    expect(moderatorView().map((tally) => tally.version)).toEqual([1, 2]);
    expect(moderatorView().at(-1)).toMatchObject({ counts: { yes: 1, no: 1 }, ballots: 2 });
  });

  it("sends hidden counts to moderators only, and everything at once on sendNow when they become visible", async () => {
    const prompt = fakePrompt({ resultsVisibility: "after_close" });
    const { coalescer, sent, participantView, moderatorView } = build(prompt, NEVER);
    prompt.vote("yes", "a");
    coalescer.changed(SEMINAR, PROMPT);
    await coalescer.flush();
    expect(moderatorView().map((tally) => tally.version)).toEqual([1]);
    expect(participantView()).toEqual([]);
    // Closing: same version, a larger audience; sent without waiting for the interval.
    prompt.state.facts.state = "closed";
    await coalescer.sendNow(SEMINAR, PROMPT);
    expect(participantView()).toEqual([
      { promptId: PROMPT, version: 1, counts: { yes: 1, no: 0 }, ballots: 1 },
    ]);
    expect(sent.everyone).toHaveLength(1);
  });

  it("gives voters of named prompts to moderators only", async () => {
    const prompt = fakePrompt({ anonymous: false });
    const { coalescer, sent } = build(prompt, NEVER);
    prompt.vote("yes", "a");
    prompt.vote("no", "b");
    coalescer.changed(SEMINAR, PROMPT);
    await coalescer.flush();
    expect(sent.everyone).toEqual([]);
    expect(sent.moderators).toEqual([
      {
        promptId: PROMPT,
        version: 2,
        counts: { yes: 1, no: 1 },
        ballots: 2,
        voters: { yes: ["a"], no: ["b"] },
      },
    ]);
    expect(sent.participants).toEqual([
      { promptId: PROMPT, version: 2, counts: { yes: 1, no: 1 }, ballots: 2 },
    ]);
  });

  it("does not resend an unchanged tally on the interval", async () => {
    const prompt = fakePrompt();
    const { coalescer, sent } = build(prompt, NEVER);
    prompt.vote("yes", "a");
    coalescer.changed(SEMINAR, PROMPT);
    await coalescer.flush();
    coalescer.changed(SEMINAR, PROMPT);
    await coalescer.flush();
    expect(prompt.state.reads).toBe(2);
    expect(sent.everyone).toHaveLength(1);
  });

  it("logs a failed flush and recovers with the next ballot", async () => {
    const prompt = fakePrompt();
    const { coalescer, sent } = build(prompt, NEVER);
    prompt.state.fail = true;
    prompt.vote("yes", "a");
    coalescer.changed(SEMINAR, PROMPT);
    await coalescer.flush();
    expect(warnings).toHaveLength(1);
    expect(sent.everyone).toEqual([]);
    prompt.state.fail = false;
    prompt.vote("no", "b");
    coalescer.changed(SEMINAR, PROMPT);
    await coalescer.flush();
    expect(sent.everyone.map((tally) => tally.version)).toEqual([2]);
  });

  it("starts its timer lazily, never holds the process open, and stops after a last flush", async () => {
    const prompt = fakePrompt();
    const { coalescer, sent } = build(prompt, 10_000);
    const timer = () => (coalescer as unknown as { timer?: NodeJS.Timeout }).timer;
    expect(timer()).toBeUndefined();
    prompt.vote("yes", "a");
    coalescer.changed(SEMINAR, PROMPT);
    expect(timer()?.hasRef()).toBe(false);
    await coalescer.stop();
    expect(timer()).toBeUndefined();
    expect(sent.everyone.map((tally) => tally.version)).toEqual([1]);
    prompt.vote("no", "b");
    coalescer.changed(SEMINAR, PROMPT);
    await coalescer.sendNow(SEMINAR, PROMPT);
    expect(timer()).toBeUndefined();
    expect(prompt.state.reads).toBe(1);
  });
});
