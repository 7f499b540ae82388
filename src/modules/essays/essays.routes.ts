import { Router } from "express";
import type { AppContext } from "../../context.ts";
import { fail } from "../../errors.ts";
import { bearerClaims, parseInput, route } from "../../http/respond.ts";
import { EssayInput } from "../../protocol/schemas.ts";
import { importOrFail } from "../seminars/seminars.service.ts";
import { codePointLength } from "./essay.text.ts";

/**
 * POST /api/essays/preview (moderators): the structure the importer finds in a text, exactly as
 * seminar creation would store it, so the moderator can check it first. Nothing is stored.
 */
export function essayRoutes(context: AppContext): Router {
  const router = Router();
  const previews = context.rateLimits.create("essay_previews", 60, 60);
  router.post(
    "/preview",
    route(async (req) => {
      const claims = bearerClaims(req, context.tokens);
      if (claims.kind !== "moderator") throw fail.forbidden("Only moderators prepare essays.");
      await previews.consume(claims.sub);
      const input = parseInput(EssayInput, req.body);
      const essay = await importOrFail(input);
      const count = (kind: string) => essay.blocks.filter((block) => block.kind === kind).length;
      return {
        title: essay.title,
        byline: essay.byline,
        dateline: essay.dateline,
        language: essay.language,
        format: essay.format,
        blocks: essay.blocks.map((block, position) => ({
          position,
          kind: block.kind,
          level: block.level ?? null,
          text: block.text,
          length: codePointLength(block.text),
        })),
        counts: {
          paragraphs: count("paragraph"),
          headings: count("heading"),
          sectionMarkers: count("section_marker"),
          captions: count("caption"),
          quotes: count("quote"),
          listItems: count("list_item"),
        },
      };
    }),
  );
  return router;
}
