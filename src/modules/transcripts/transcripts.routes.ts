import { Router } from "express";
/** docs/transcript.schema.json, the JSON Schema of the JSON transcript (bundled with the build). */
import transcriptSchema from "../../../docs/transcript.schema.json" with { type: "json" };
import type { AppContext } from "../../context.ts";
import { bearerClaims, parseInput } from "../../http/respond.ts";
import { Id } from "../../protocol/schemas.ts";
import { TranscriptQuery } from "../../protocol/transcripts.ts";
import { resolveMember } from "../seminars/seminars.service.ts";
import type { TranscriptExports } from "./transcript.exports.ts";
import { admitTranscript } from "./transcripts.service.ts";

/**
 * Transcript downloads, mounted at /api:
 * - GET /seminars/:seminarId/transcript?format=json|md|csv|jsonld|zip[&anonymized=true][&table=…]
 *   streams the transcript as the caller may see it: moderators always, participants and
 *   observers once the session started and the host allows it (PATCH /api/seminars/:id/settings).
 *   Errors (before the first byte, in the JSON envelope): unauthenticated, not_found (another
 *   seminar), forbidden, validation_failed, rate_limited (TRANSCRIPTS_PER_MINUTE per member, or too many
 *   downloads on this server at once; retry after details.retryAfterMs).
 *   A failure after the first byte cuts the response off (it is never a complete-looking file).
 *   The file is built by `exports` (on an export thread when there is one); a client that goes
 *   away stops it.
 * - GET /transcript.schema.json: the JSON Schema (2020-12) of format=json.
 */
export function transcriptRoutes(context: AppContext, exports: TranscriptExports): Router {
  const router = Router();
  const perMember = context.rateLimits.create("transcripts", context.config.transcriptsPerMinute, 60);
  const schema = `${JSON.stringify(transcriptSchema, null, 2)}\n`;

  router.get("/transcript.schema.json", (_req, res) => {
    res.type("application/schema+json").set("cache-control", "public, max-age=3600").send(schema);
  });

  router.get("/seminars/:seminarId/transcript", async (req, res) => {
    const seminarId = parseInput(Id, req.params.seminarId);
    const member = await resolveMember(context.prisma, bearerClaims(req, context.tokens), seminarId);
    const query = parseInput(TranscriptQuery, req.query);
    const actor = { seminarId, memberId: member.id, role: member.role };
    await admitTranscript(context.prisma, actor);
    // Counted only once access is granted: a refused request costs nothing.
    await perMember.consume(member.id);
    const release = exports.admit();
    try {
      const collectionId = `${context.publicUrl()}/api/seminars/${seminarId}/transcript?format=jsonld${
        query.anonymized ? "&anonymized=true" : ""
      }`;
      await exports.send(
        {
          actor,
          request: query,
          collectionId,
          secret: context.config.jwt.secret,
          publicUrl: context.publicUrl(),
        },
        res,
      );
    } finally {
      release();
    }
  });

  return router;
}
