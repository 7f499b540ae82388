/**
 * Every format of a transcript in one zip archive, written by yazl as it is read: each entry's
 * stream is created only when the archive reaches it (addReadStreamLazy), so one part is read
 * from the database at a time and memory stays bounded.
 */
import { PassThrough, Readable } from "node:stream";
import { ZipFile } from "yazl";
import { TRANSCRIPT_TABLES } from "../../protocol/transcripts.ts";
import { csvTranscript } from "./transcript.csv.ts";
import { jsonTranscript } from "./transcript.json.ts";
import { jsonLdTranscript } from "./transcript.jsonld.ts";
import { markdownTranscript } from "./transcript.markdown.ts";
import type { TranscriptSource } from "./transcripts.service.ts";

/** The entries of a transcript archive: file name and how to write it. */
export function zipEntries(
  source: TranscriptSource,
  collectionId: string,
): { name: string; chunks: () => AsyncIterable<string> }[] {
  return [
    { name: "transcript.json", chunks: () => jsonTranscript(source) },
    { name: "transcript.md", chunks: () => markdownTranscript(source) },
    { name: "annotations.jsonld", chunks: () => jsonLdTranscript(source, collectionId) },
    ...TRANSCRIPT_TABLES.map((table) => ({
      name: `${table}.csv`,
      chunks: () => csvTranscript(source, table),
    })),
  ];
}

/**
 * The archive as a stream. A failure while reading a part (the database going away) fails the
 * archive's stream with that error, so the response is cut off rather than ending as a valid zip
 * that lacks data.
 */
export function zipTranscript(source: TranscriptSource, collectionId: string, folder: string): Readable {
  const zip = new ZipFile();
  const output = new PassThrough();
  const mtime = new Date(source.head.generatedAt);
  for (const entry of zipEntries(source, collectionId)) {
    zip.addReadStreamLazy(`${folder}/${entry.name}`, { mtime }, (done) => {
      const stream = Readable.from(entry.chunks(), { objectMode: false });
      stream.once("error", (error) => output.destroy(error));
      done(null, stream);
    });
  }
  zip.end();
  zip.outputStream.pipe(output);
  return output;
}
