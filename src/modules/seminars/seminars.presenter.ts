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
}): MemberView {
  return { id: member.id, displayName: member.displayName, role: member.role, status: member.status };
}
