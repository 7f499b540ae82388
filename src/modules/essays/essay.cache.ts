import { LRUCache } from "lru-cache";
import type { PrismaClient, Tx } from "../../db/client.ts";
import type { BlockKind, EssayView } from "../../protocol/views.ts";
import { presentEssay } from "../seminars/seminars.presenter.ts";

/** A frozen essay, presented once, with its blocks by id for anchoring checks. */
export interface FrozenEssay {
  view: EssayView;
  blocks: Map<string, { kind: BlockKind; text: string }>;
}

/** How much an essay cache may hold. */
export interface EssayCacheLimits {
  /** Essays at most. */
  entries: number;
  /** Characters at most, over every essay held (see essayWeight). */
  chars: number;
}

/**
 * The process's frozen essays: at most 2,000, and at most 16 Mi characters together (about 32 MB
 * of strings at two bytes a character, the worst case for CJK text, plus their objects). A count
 * alone is no bound: an essay may have 200,000 characters, so 2,000 of them would be 800 MB, and a
 * node keeps the essay of every seminar that went live on it until something pushes it out.
 */
export const ESSAY_CACHE_LIMITS: EssayCacheLimits = { entries: 2_000, chars: 16 * 2 ** 20 };

/**
 * What an essay counts for against `chars`: its text, plus a block's id and fields (about a
 * hundred characters' worth) for each block, so that an essay of many short blocks weighs what
 * it holds too.
 */
export function essayWeight(essay: FrozenEssay): number {
  const { view } = essay;
  let weight = view.title.length + (view.byline?.length ?? 0) + (view.dateline?.length ?? 0);
  for (const paragraph of view.paragraphs) weight += paragraph.text.length + 100;
  return weight;
}

/**
 * Frozen essays by seminar, read from the database once and then from memory; the least recently
 * used goes first once either limit is reached. A frozen essay never changes (the session has
 * started), and seminar ids are unique across databases, so one cache per process is safe for
 * every application instance. Drafts are never cached.
 */
export class EssayCache {
  private readonly cache: LRUCache<string, FrozenEssay>;

  constructor(limits: EssayCacheLimits) {
    this.cache = new LRUCache<string, FrozenEssay>({
      max: limits.entries,
      maxSize: limits.chars,
      // An essay heavier than the whole budget is not kept (lru-cache refuses it).
      sizeCalculation: (essay) => Math.max(1, essayWeight(essay)),
    });
  }

  /** The frozen essay of a seminar; undefined when it is not frozen yet (or there is none). */
  async get(db: PrismaClient | Tx, seminarId: string): Promise<FrozenEssay | undefined> {
    const cached = this.cache.get(seminarId);
    if (cached) return cached;
    const essay = await db.essay.findUnique({
      where: { seminarId },
      include: { paragraphs: { orderBy: { position: "asc" } } },
    });
    if (!essay?.frozenAt) return undefined;
    const entry: FrozenEssay = {
      view: presentEssay(essay),
      blocks: new Map(essay.paragraphs.map((block) => [block.id, { kind: block.kind, text: block.text }])),
    };
    this.cache.set(seminarId, entry);
    return entry;
  }

  /** What the cache holds now: essays and their weight in characters. */
  held(): { entries: number; chars: number } {
    return { entries: this.cache.size, chars: this.cache.calculatedSize };
  }
}

const shared = new EssayCache(ESSAY_CACHE_LIMITS);

/**
 * The frozen essay of a seminar from the process's cache (see EssayCache): undefined when the
 * essay is not frozen yet (or the seminar has none).
 */
export function frozenEssay(db: PrismaClient | Tx, seminarId: string): Promise<FrozenEssay | undefined> {
  return shared.get(db, seminarId);
}
