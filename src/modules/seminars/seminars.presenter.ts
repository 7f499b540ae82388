import type { EssayView, MemberView, ParagraphView, SeminarView } from "../../protocol/views.ts";
import { isMuted } from "../moderation/moderation.policy.ts";
import type { Viewer } from "./seminars.policy.ts";

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
    transcriptAccess: boolean;
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
    transcriptAccess: seminar.transcriptAccess,
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

/** The stored fields a member view is built from. */
export interface MemberRecord {
  id: string;
  displayName: string;
  role: MemberView["role"];
  status: MemberView["status"];
  createdAt: Date;
  mutedAt: Date | null;
  mutedUntil: Date | null;
}

/**
 * A member as the room sees them: the one member-view builder (events, snapshots, REST,
 * transcripts). Whether they are muted is public (the room sees who may not post), as of `now`.
 */
export function presentMember(
  member: MemberRecord,
  displayName: string = member.displayName,
  now: Date = new Date(),
): MemberView {
  const muted = isMuted(member, now);
  return {
    id: member.id,
    displayName,
    role: member.role,
    status: member.status,
    joinedAt: member.createdAt.toISOString(),
    muted,
    mutedUntil: muted ? (member.mutedUntil?.toISOString() ?? null) : null,
  };
}

/** A member as `viewer` sees them: an anonymised viewer gets the member's stable pseudonym. */
export function presentMemberFor(
  viewer: Viewer,
  member: MemberRecord,
  pseudonyms?: ReadonlyMap<string, string>,
): MemberView {
  if (!viewer.anonymized) return presentMember(member);
  return presentMember(member, pseudonyms?.get(member.id) ?? "Anonymous");
}

const PSEUDONYM_LABEL: Record<MemberView["role"], string> = {
  host: "Moderator",
  co_moderator: "Moderator",
  participant: "Participant",
  observer: "Observer",
};

/**
 * Stable pseudonyms for a seminar's members: "Participant 1", "Participant 2", … by the order they
 * joined (which never changes), numbered per label, so an anonymised transcript reads the same
 * every time it is downloaded.
 */
export function pseudonymsOf(roster: readonly MemberRecord[]): Map<string, string> {
  const ordered = [...roster].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const counters = new Map<string, number>();
  const names = new Map<string, string>();
  for (const member of ordered) {
    const label = PSEUDONYM_LABEL[member.role];
    const n = (counters.get(label) ?? 0) + 1;
    counters.set(label, n);
    names.set(member.id, `${label} ${n}`);
  }
  return names;
}
