/**
 * What a download is: its bytes (one format, or all of them zipped), its content type and its
 * file name, which keeps the seminar's title (CJK included, RFC 6266 / RFC 5987 `filename*`)
 * with a plain-ASCII fallback for clients that read only `filename`.
 */
import { Readable } from "node:stream";
import type { TranscriptFormat, TranscriptTable } from "../../protocol/transcripts.ts";
import { csvTranscript } from "./transcript.csv.ts";
import { jsonTranscript } from "./transcript.json.ts";
import { ANNO_CONTEXT, jsonLdTranscript } from "./transcript.jsonld.ts";
import { markdownTranscript } from "./transcript.markdown.ts";
import { zipTranscript } from "./transcript.zip.ts";
import type { TranscriptSource } from "./transcripts.service.ts";

/** Each format's media type. */
export const CONTENT_TYPES: Record<TranscriptFormat, string> = {
  json: "application/json; charset=utf-8",
  md: "text/markdown; charset=utf-8; variant=CommonMark",
  csv: "text/csv; charset=utf-8; header=present",
  jsonld: `application/ld+json; profile="${ANNO_CONTEXT}"; charset=utf-8`,
  zip: "application/zip",
};

const EXTENSIONS: Record<TranscriptFormat, string> = {
  json: "json",
  md: "md",
  csv: "csv",
  jsonld: "jsonld",
  zip: "zip",
};

/** Characters no file name should hold: controls, invisible format characters, path and shell specials. */
const UNSAFE_IN_NAMES = /[\p{Cc}\p{Cf}\\/:*?"<>|]+/gu;

/**
 * The file name of a download, and its ASCII fallback. The title keeps its letters (any script),
 * loses what file systems or headers cannot hold, and is cut to 80 code points.
 */
export function transcriptFileName(
  title: string,
  parts: { format: TranscriptFormat; table?: TranscriptTable; anonymized: boolean },
): { name: string; ascii: string } {
  const suffix = [parts.table ?? "transcript", ...(parts.anonymized ? ["anonymized"] : [])].join("-");
  const extension = EXTENSIONS[parts.format];
  const words = title.normalize("NFC").replace(UNSAFE_IN_NAMES, " ").trim().split(/\s+/u).join("-");
  const stem =
    [...words]
      .slice(0, 80)
      .join("")
      .replace(/^[-.]+|[-.]+$/g, "") || "seminar";
  const ascii =
    words
      .normalize("NFKD")
      .replace(/\p{M}+/gu, "")
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/-{2,}/g, "-")
      .slice(0, 80)
      .replace(/^[-.]+|[-.]+$/g, "") || "seminar";
  return { name: `${stem}-${suffix}.${extension}`, ascii: `${ascii}-${suffix}.${extension}` };
}

/** A download: its bytes as a stream, its media type and its file names. */
export interface TranscriptFile {
  body: Readable;
  contentType: string;
  fileName: { name: string; ascii: string };
}

/** Text chunks as a byte stream (not object mode, so buffering is bounded by bytes). */
export function textStream(chunks: AsyncIterable<string>): Readable {
  return Readable.from(chunks, { objectMode: false });
}

/** Renders the transcript in one format (CSV: one table, annotations by default). */
export function renderTranscript(
  source: TranscriptSource,
  request: { format: TranscriptFormat; table?: TranscriptTable; anonymized: boolean },
  collectionId: string,
): TranscriptFile {
  const table = request.format === "csv" ? (request.table ?? "annotations") : undefined;
  const fileName = transcriptFileName(source.head.seminar.title, { ...request, table });
  const contentType = CONTENT_TYPES[request.format];
  const folder = fileName.ascii.replace(/\.zip$/, "");
  switch (request.format) {
    case "json":
      return { body: textStream(jsonTranscript(source)), contentType, fileName };
    case "md":
      return { body: textStream(markdownTranscript(source)), contentType, fileName };
    case "csv":
      return { body: textStream(csvTranscript(source, table ?? "annotations")), contentType, fileName };
    case "jsonld":
      return { body: textStream(jsonLdTranscript(source, collectionId)), contentType, fileName };
    case "zip":
      return { body: zipTranscript(source, collectionId, folder), contentType, fileName };
  }
}
