/** What a person types as a comment, checked with the protocol's own rules before it is queued. */
import { AnnotationBody, AnnotationTags } from "../../../../src/protocol/annotations.ts";

/** Splits typed tags ("ethics, open-source #policy") into tag strings. */
export function splitTags(value: string): string[] {
  return value
    .split(/[\s,，、#]+/u)
    .map((tag) => tag.trim())
    .filter(Boolean);
}

/** Checks a body and tags with the protocol's schemas; answers the first problem, if any. */
export function checkComment(
  body: string,
  tags: string,
): { ok: true; body: string; tags: string[] } | { ok: false; message: string } {
  const parsedBody = AnnotationBody.safeParse(body);
  if (!parsedBody.success)
    return { ok: false, message: `The comment ${parsedBody.error.issues[0]!.message}.` };
  const parsedTags = AnnotationTags.safeParse(splitTags(tags));
  if (!parsedTags.success) {
    const issue = parsedTags.error.issues[0]!;
    return { ok: false, message: `Tags: ${issue.path.length > 0 ? "a tag " : ""}${issue.message}.` };
  }
  return { ok: true, body: parsedBody.data, tags: parsedTags.data };
}
