import type { Tx } from "../../db/client.ts";
import type { EssayView, MemberView, ParagraphView, SeminarView } from "../../protocol/views.ts";

/** Builds the join link for a code. */
export function joinUrl(publicUrl: string, joinCode: string): string {
  return `${publicUrl}/join/${joinCode}`;
}

/** A seminar; the join code and link only for moderators. */
export function presentSeminar(
  seminar: {
    id: string;
    title: string;
    state: SeminarView["state"];
    joinCode: string;
    locked: boolean;
    slowModeSeconds: number;
    spotlightParagraphId: string | null;
    startedAt: Date | null;
    endedAt: Date | null;
    createdAt: Date;
  },
  options: { moderator: boolean; publicUrl: string },
): SeminarView {
  const view: SeminarView = {
    id: seminar.id,
    title: seminar.title,
    state: seminar.state,
    locked: seminar.locked,
    slowModeSeconds: seminar.slowModeSeconds,
    spotlightParagraphId: seminar.spotlightParagraphId,
    startedAt: seminar.startedAt?.toISOString() ?? null,
    endedAt: seminar.endedAt?.toISOString() ?? null,
    createdAt: seminar.createdAt.toISOString(),
  };
  if (options.moderator) {
    view.joinCode = seminar.joinCode;
    view.joinUrl = joinUrl(options.publicUrl, seminar.joinCode);
  }
  return view;
}

/** A paragraph (block) of the essay. */
export function presentParagraph(paragraph: {
  id: string;
  position: number;
  kind: ParagraphView["kind"];
  level: number | null;
  text: string;
}): ParagraphView {
  return {
    id: paragraph.id,
    position: paragraph.position,
    kind: paragraph.kind,
    level: paragraph.level,
    text: paragraph.text,
  };
}

/** The essay with its blocks in order. */
export function presentEssay(essay: {
  title: string;
  byline: string | null;
  dateline: string | null;
  language: string | null;
  frozenAt: Date | null;
  paragraphs: Parameters<typeof presentParagraph>[0][];
}): EssayView {
  return {
    title: essay.title,
    byline: essay.byline,
    dateline: essay.dateline,
    language: essay.language,
    frozen: essay.frozenAt !== null,
    paragraphs: essay.paragraphs.map(presentParagraph),
  };
}

/** A member as the room sees them. */
export function presentMember(member: {
  id: string;
  displayName: string;
  role: MemberView["role"];
  status: MemberView["status"];
  createdAt: Date;
}): MemberView {
  return {
    id: member.id,
    displayName: member.displayName,
    role: member.role,
    status: member.status,
    joinedAt: member.createdAt.toISOString(),
  };
}

/**
 * Every member of a seminar as MemberView, oldest first, built by PostgreSQL as one JSON value.
 * A snapshot carries the whole roster, so a lecture hall joining at once reads it N times; mapping
 * N rows through the ORM each time was the largest cost of a join storm. The fields are exactly
 * presentMember's.
 */
export async function listMemberViews(tx: Tx, seminarId: string): Promise<MemberView[]> {
  const rows = await tx.$queryRaw<{ members: MemberView[] }[]>`
    SELECT coalesce(
      json_agg(
        json_build_object(
          'id', id, 'displayName', display_name, 'role', role, 'status', status,
          'joinedAt', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        )
        ORDER BY created_at, id
      ),
      '[]'::json
    ) AS members
    FROM memberships WHERE seminar_id = ${seminarId}::uuid`;
  return rows[0]?.members ?? [];
}
