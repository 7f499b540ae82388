import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse as parseCsv } from "csv-parse/sync";
import yauzl from "yauzl";
import type { Result } from "../../src/protocol/result.ts";
import type { TranscriptDocument } from "../../src/protocol/transcripts.ts";
import type { TestServer } from "./server.ts";

/** A download: status, headers and the raw bytes. */
export interface Download {
  status: number;
  headers: Headers;
  bytes: Buffer;
  text: string;
}

/** GET /api/seminars/:id/transcript with a query string, as bytes. */
export async function download(
  server: TestServer,
  seminarId: string,
  token: string | undefined,
  query: string,
): Promise<Download> {
  const response = await fetch(`${server.url}/api/seminars/${seminarId}/transcript?${query}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, bytes, text: bytes.toString("utf8") };
}

/** The error envelope of a refused download. */
export function errorOf(result: Download): Result<never> {
  return JSON.parse(result.text) as Result<never>;
}

/** The published JSON Schema, compiled by Ajv (2020-12) with format checks. */
export function transcriptValidator() {
  const schema = JSON.parse(
    readFileSync(new URL("../../docs/transcript.schema.json", import.meta.url), "utf8"),
  ) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats.default(ajv);
  return ajv.compile<TranscriptDocument>(schema);
}

/** CSV text (with its BOM) parsed back by csv-parse into records by header. */
export function readCsv(text: string): Record<string, string>[] {
  return parseCsv(text, { bom: true, columns: true, record_delimiter: "\r\n", relax_quotes: false });
}

/** The entries of a zip archive: name -> content. */
export function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error("no zip"));
      const entries = new Map<string, Buffer>();
      zip.on("entry", (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (openError, stream) => {
          if (openError || !stream) return reject(openError ?? new Error("no stream"));
          const chunks: Buffer[] = [];
          stream.on("data", (chunk: Buffer) => chunks.push(chunk));
          stream.on("end", () => {
            entries.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
          stream.on("error", reject);
        });
      });
      zip.on("end", () => resolve(entries));
      zip.on("error", reject);
      zip.readEntry();
    });
  });
}
