/**
 * The annotations of a transcript as a W3C Web Annotation AnnotationCollection (JSON-LD, context
 * http://www.w3.org/ns/anno.jsonld), one embedded AnnotationPage holding every annotation the
 * viewer may see:
 * - a top-level annotation targets its paragraph (`source`), with a TextQuoteSelector (exact,
 *   prefix, suffix) and a TextPositionSelector (start, end in code points, as the model counts)
 *   when it highlights a span; motivation `commenting`;
 * - a reply targets the annotation it answers, motivation `replying`;
 * - the comment is a TextualBody (`purpose` commenting or replying), each tag a TextualBody with
 *   `purpose` tagging;
 * - a tombstone keeps its place (replies still point at it) with no body and `as:deleted`;
 *   a hidden one (moderators' transcripts) carries `audience` moderators.
 * Ids are `urn:uuid:` IRIs of the stored ids (pseudonymous member ids when anonymised).
 */
import type { TranscriptAnnotationView } from "../../protocol/transcripts.ts";
import type { MemberView } from "../../protocol/views.ts";
import type { TranscriptSource } from "./transcripts.service.ts";

/** The Web Annotation JSON-LD context. */
export const ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld";

/** An id as an IRI. */
export const urn = (id: string): string => `urn:uuid:${id}`;

/** One annotation in the Web Annotation model. */
export function presentWebAnnotation(
  annotation: TranscriptAnnotationView,
  members: ReadonlyMap<string, MemberView>,
): Record<string, unknown> {
  const reply = annotation.parentId !== null;
  const purpose = reply ? "replying" : "commenting";
  const body: Record<string, unknown>[] = [];
  if (!annotation.deleted) {
    body.push({ type: "TextualBody", purpose, value: annotation.body, format: "text/plain" });
    for (const tag of annotation.tags) body.push({ type: "TextualBody", purpose: "tagging", value: tag });
  }
  const target = reply
    ? urn(annotation.parentId!)
    : {
        source: urn(annotation.paragraphId),
        ...(annotation.selector
          ? {
              selector: [
                {
                  type: "TextQuoteSelector",
                  exact: annotation.selector.exact,
                  prefix: annotation.selector.prefix,
                  suffix: annotation.selector.suffix,
                },
                {
                  type: "TextPositionSelector",
                  start: annotation.selector.start,
                  end: annotation.selector.end,
                },
              ],
            }
          : {}),
      };
  const author = members.get(annotation.authorId);
  const item: Record<string, unknown> = {
    id: urn(annotation.id),
    type: "Annotation",
    motivation: purpose,
    created: annotation.createdAt,
    ...(annotation.editedAt ? { modified: annotation.editedAt } : {}),
    creator: {
      id: urn(annotation.authorId),
      type: "Person",
      nickname: author?.displayName ?? "A former member",
    },
    ...(body.length > 0 ? { body } : {}),
    target,
  };
  if (annotation.deleted) item["as:deleted"] = true;
  if (annotation.hidden) item.audience = { type: "schema:Audience", "schema:audienceType": "moderators" };
  return item;
}

/** The AnnotationCollection, as chunks of text. */
export async function* jsonLdTranscript(
  source: TranscriptSource,
  collectionId: string,
): AsyncGenerator<string> {
  const { head, members } = source;
  const opening = {
    "@context": ANNO_CONTEXT,
    id: collectionId,
    type: "AnnotationCollection",
    label: head.seminar.title,
  };
  const open = JSON.stringify(opening);
  yield `${open.slice(0, -1)},\n"first":{"type":"AnnotationPage","startIndex":0,"items":[`;
  let total = 0;
  for await (const page of source.annotations()) {
    if (page.length === 0) continue;
    const items = page.map((annotation) => JSON.stringify(presentWebAnnotation(annotation, members)));
    yield (total === 0 ? "\n" : ",\n") + items.join(",\n");
    total += page.length;
  }
  yield `${total === 0 ? "" : "\n"}]},\n"total":${total}}\n`;
}
