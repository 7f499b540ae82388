import { LRUCache } from "lru-cache";
import type { PrismaClient, Tx } from "../../db/client.ts";
import type { BlockKind, EssayView } from "../../protocol/views.ts";
import { presentEssay } from "../seminars/seminars.presenter.ts";

/** A frozen essay, presented once, with its blocks by id for anchoring checks. */
export interface FrozenEssay {
  view: EssayView;
  blocks: Map<string, { kind: BlockKind; text: string }>;
}

/** At most this many frozen essays are kept; the least recently used goes first. */
const cache = new LRUCache<string, FrozenEssay>({ max: 2_000 });

/**
 * The frozen essay of a seminar, read from the database once and then from memory. A frozen essay
 * never changes (the session has started), and seminar ids are unique across databases, so one
 * process-wide cache is safe for every application instance. Drafts are never cached: undefined
 * when the essay is not frozen yet (or the seminar has none).
 */
export async function frozenEssay(
  db: PrismaClient | Tx,
  seminarId: string,
): Promise<FrozenEssay | undefined> {
  const cached = cache.get(seminarId);
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
  cache.set(seminarId, entry);
  return entry;
}
