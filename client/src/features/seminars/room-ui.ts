/**
 * The reading room's view state (what is selected, open, followed), kept apart from the room's
 * data (RoomConnection) so that a reconnect or a snapshot never resets what the reader is doing.
 */

import { signal } from "@preact/signals";
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { ErrorBody } from "../../../../src/protocol/result.ts";
import type { MemberRole, RoomSnapshot, RoomStreamEvent } from "../../../../src/protocol/views.ts";
import { isMemberMuted } from "../../connection/mutes.ts";
import type { RoomConnection } from "../../connection/room-connection.ts";
import type { SelectedSpan } from "../annotations/selection.ts";

/** The side panel's tabs: the participant's two, and the console's people, queue and log. */
export type PanelTab = "comments" | "questions" | "people" | "queue" | "log";

/** A command the server refused, as the console shows it. */
export interface Refusal {
  /** What was asked, in words ("Kick Ada"). */
  action: string;
  error: ErrorBody;
}

/** View state of one reading room. */
export class RoomUi {
  /**
   * The moderator's console: moderation controls on annotations and paragraphs, hidden
   * annotations shown (marked).
   */
  readonly console: boolean;
  /** The last command the server refused (console), shown until dismissed or the next success. */
  readonly refusal = signal<Refusal | null>(null);

  constructor(options: { console?: boolean } = {}) {
    this.console = options.console ?? false;
    // The moderator moves the spotlight; their own view does not jump to it.
    if (this.console) this.following.value = false;
  }

  /** The paragraph whose threads the panel shows. */
  readonly selectedParagraphId = signal<string | null>(null);
  /** The span being commented on (kept while the reader writes). */
  readonly draftSpan = signal<SelectedSpan | null>(null);
  /** The span the reader has selected in the essay, offered for a comment. */
  readonly pendingSpan = signal<SelectedSpan | null>(null);
  readonly tab = signal<PanelTab>("comments");
  /** On a phone the panel is a sheet over the essay; this opens it. */
  readonly panelOpen = signal(false);
  /** Scroll to the moderator's spotlight when it changes. */
  readonly following = signal(true);
  /** An annotation to scroll to and focus in the panel. */
  readonly focusAnnotationId = signal<string | null>(null);
  /** Increases when the composer should take focus. */
  readonly composerFocus = signal(0);
  /** Increases when the panel's heading should take focus (opened from a paragraph's button). */
  readonly panelFocus = signal(0);
  /** The call (its event's seq) whose "you have the floor" notice the reader dismissed. */
  readonly floorDismissed = signal<number | null>(null);

  /**
   * Opens a paragraph's threads; with a span, starts a comment on it (focus to the composer).
   * `focusPanel` moves focus to the panel, for keyboard users who opened it with a button.
   */
  openParagraph(paragraphId: string, span?: SelectedSpan, options: { focusPanel?: boolean } = {}): void {
    if (this.selectedParagraphId.value !== paragraphId || span) {
      this.draftSpan.value = span ?? null;
    }
    this.selectedParagraphId.value = paragraphId;
    this.tab.value = "comments";
    this.panelOpen.value = true;
    if (span) this.composerFocus.value++;
    else if (options.focusPanel) this.panelFocus.value++;
  }

  /** Closes the panel (the sheet on a phone) and gives focus back to the paragraph's button. */
  closePanel(): void {
    this.panelOpen.value = false;
    const paragraphId = this.selectedParagraphId.value;
    if (paragraphId) document.querySelector<HTMLElement>(`#p-${paragraphId} .comments-button`)?.focus();
  }
}

/** What every part of the room reads: the connection (data) and the view state. */
export interface RoomContextValue {
  connection: RoomConnection;
  ui: RoomUi;
}

/** Provided by RoomPage. */
export const RoomContext = createContext<RoomContextValue | null>(null);

/** The room's connection and view state (inside RoomPage only). */
export function useRoom(): RoomContextValue {
  const value = useContext(RoomContext);
  if (!value) throw new Error("useRoom outside RoomPage");
  return value;
}

/**
 * The room's data as last synchronised; the calling component re-renders whenever it changes
 * (reading `revision` subscribes it).
 */
export function useRoomState(): RoomSnapshot | undefined {
  const { connection } = useRoom();
  return connection.revision.value >= 0 ? connection.room : undefined;
}

/** What the viewer may do now. Mirrors the server's rules for display only; the server decides. */
export interface Abilities {
  annotate: boolean;
  vote: boolean;
}

const WRITERS: readonly MemberRole[] = ["host", "co_moderator", "participant"];

/**
 * The viewer's abilities in the room as it is now. The snapshot's `permissions` are as of the
 * snapshot; the seminar's state can change after it (started, ended), so the state is read live.
 */
export function abilitiesIn(room: RoomSnapshot, now = Date.now()): Abilities {
  const live = room.seminar.state === "live";
  return {
    annotate: live && WRITERS.includes(room.viewer.role) && !isMuted(room, now),
    vote: live && room.viewer.role === "participant",
  };
}

/** Whether the viewer is muted now (the roster holds their mute; a timed one runs out by itself). */
export function isMuted(room: RoomSnapshot, now = Date.now()): boolean {
  const me = room.members.find((member) => member.id === room.viewer.memberId);
  return me ? isMemberMuted(me, now) : false;
}

/** Who was given the floor by the last call, and that call's seq. */
export interface Floor {
  memberId: string;
  seq: number;
}

/**
 * Who has the floor after `events` (applied in order): the member the last `queue:updated` call
 * named, until the next call (another member's turn), a cleared queue, or that member's own hand
 * moving again (raised anew or lowered). Null when nobody has it.
 */
export function floorHolder(events: readonly RoomStreamEvent[]): Floor | null {
  // Newest first: hands that moved after a call are collected until the call is reached.
  const movedSince = new Set<string>();
  for (let index = events.length - 1; index >= 0; index--) {
    const event = events[index]!;
    if (event.type !== "queue:updated") continue;
    const { action, memberId } = event.data;
    if (action === "clear") return null;
    if (action === "call") return memberId && !movedSince.has(memberId) ? { memberId, seq: event.seq } : null;
    if (memberId) movedSince.add(memberId);
  }
  return null;
}

/** Whether a role moderates the room (host or co-moderator). */
export function isModeratorRole(role: MemberRole): boolean {
  return role === "host" || role === "co_moderator";
}

/** Whether this view shows moderation controls: the console, for a moderator. */
export function moderating(ui: RoomUi, room: RoomSnapshot): boolean {
  return ui.console && isModeratorRole(room.viewer.role);
}
