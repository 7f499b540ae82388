/**
 * The JSON transcript (TranscriptDocument, described by docs/transcript.schema.json), written as
 * it is read: the head first, then each large array page by page, one item per line.
 */
import { slices, type TranscriptSource } from "./transcripts.service.ts";

/** `"key":[items…]` from pages of items, as chunks of text. */
async function* jsonArray<T>(key: string, pages: AsyncIterable<T[]>): AsyncGenerator<string> {
  yield `,\n${JSON.stringify(key)}:[`;
  let first = true;
  for await (const page of pages) {
    if (page.length === 0) continue;
    yield (first ? "\n" : ",\n") + page.map((item) => JSON.stringify(item)).join(",\n");
    first = false;
  }
  yield first ? "]" : "\n]";
}

/** The JSON transcript, as chunks of text. */
export async function* jsonTranscript(source: TranscriptSource): AsyncGenerator<string> {
  let first = true;
  for (const [key, value] of Object.entries(source.head)) {
    // Long lists of the head (a lecture hall's roster) are written a slice at a time too.
    if (Array.isArray(value) && !first) yield* jsonArray<unknown>(key, slices<unknown>(value));
    else yield `${first ? "{" : ",\n"}${JSON.stringify(key)}:${JSON.stringify(value)}`;
    first = false;
  }
  yield* jsonArray("ballots", source.ballots());
  yield* jsonArray("tallyHistory", source.tallyHistory());
  yield* jsonArray("annotations", source.annotations());
  const log = source.moderationLog();
  if (log) yield* jsonArray("moderationLog", log);
  else yield ',\n"moderationLog":null';
  yield* jsonArray("timeline", source.timeline());
  yield "}\n";
}
