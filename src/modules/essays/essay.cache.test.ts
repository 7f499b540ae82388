import { describe, expect, it } from "vitest";
import { buildModerator, buildSeminar } from "../../../tests/helpers/factories.ts";
import { startTestServer } from "../../../tests/helpers/server.ts";
import { EssayCache, essayWeight } from "./essay.cache.ts";

const server = await startTestServer();

/** An essay of `paragraphs` paragraphs of about `chars` characters each. */
function essayOf(paragraphs: number, chars: number, seed: string): string {
  const sentence = `${seed} reads slowly and asks why. `;
  const paragraph = sentence
    .repeat(Math.ceil(chars / sentence.length))
    .slice(0, chars)
    .trim();
  return [`# ${seed}`, ...Array.from({ length: paragraphs }, (_, i) => `${paragraph} ${i}.`)].join("\n\n");
}

describe("EssayCache", () => {
  it("holds at most its character budget, forgetting the least recently used essay first", async () => {
    const moderator = await buildModerator(server);
    const seminars = [];
    for (const seed of ["First", "Second", "Third"]) {
      const { seminar } = await buildSeminar(server, { moderator, essay: essayOf(20, 1_000, seed) });
      seminars.push(seminar);
    }
    const probe = new EssayCache({ entries: 100, chars: 10 ** 9 });
    const weight = essayWeight((await probe.get(server.prisma, seminars[0]!.id))!);
    expect(weight).toBeGreaterThan(20 * 1_000);

    // Room for two of the three essays (by characters; the entry count would allow all three).
    const cache = new EssayCache({ entries: 100, chars: Math.floor(weight * 2.5) });
    const first = await cache.get(server.prisma, seminars[0]!.id);
    await cache.get(server.prisma, seminars[1]!.id);
    expect(cache.held().entries).toBe(2);
    await cache.get(server.prisma, seminars[2]!.id);
    expect(cache.held().entries).toBe(2);
    expect(cache.held().chars).toBeLessThanOrEqual(Math.floor(weight * 2.5));
    // The first was forgotten: asking again reads it anew (another object), and pushes out the second.
    const again = await cache.get(server.prisma, seminars[0]!.id);
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
    expect(await cache.get(server.prisma, seminars[0]!.id)).toBe(again);
  });

  it("does not keep a draft's essay, which may still change", async () => {
    const { seminar } = await buildSeminar(server, { start: false });
    const cache = new EssayCache({ entries: 100, chars: 10 ** 9 });
    expect(await cache.get(server.prisma, seminar.id)).toBeUndefined();
    expect(cache.held()).toEqual({ entries: 0, chars: 0 });
  });
});
