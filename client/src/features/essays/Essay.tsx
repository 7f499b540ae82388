/**
 * The essay as the room reads it: title, byline, sections, captions and paragraphs, with
 * highlights where people commented, the moderator's spotlight and where others are reading.
 * Text is only ever rendered as text nodes.
 */
import { Component } from "preact";
import { useEffect, useMemo, useRef } from "preact/hooks";
import type { AnnotationView, ParagraphView } from "../../../../src/protocol/views.ts";
import { CommentIcon, PersonIcon, PlusIcon, SpotlightIcon } from "../../ui/icons.tsx";
import { plural } from "../../ui/text.ts";
import { PARAGRAPH_TEXT_ATTRIBUTE, type SelectedSpan, spanFromRange } from "../annotations/selection.ts";
import { useCommand } from "../console/commands.ts";
import { readersByParagraph } from "../presence/counts.ts";
import { moderating, type RoomUi, useRoom, useRoomState } from "../seminars/room-ui.ts";
import { type HighlightRange, highlightRanges, segmentText } from "./highlights.ts";
import { isAnnotatable, paragraphNumbers } from "./numbering.ts";

/** Per paragraph: its highlights (and a key that changes when they do) and its comment count. */
interface ParagraphAnnotations {
  ranges: HighlightRange[];
  rangesKey: string;
  comments: number;
}

const EMPTY: ParagraphAnnotations = { ranges: [], rangesKey: "", comments: 0 };

/** Groups the visible annotations by paragraph (hidden ones too in the console, `seesHidden`). */
function byParagraph(
  annotations: readonly AnnotationView[],
  seesHidden: boolean,
): Map<string, ParagraphAnnotations> {
  const lists = new Map<string, AnnotationView[]>();
  for (const annotation of annotations) {
    if (annotation.deleted || (annotation.hidden && !seesHidden)) continue;
    const list = lists.get(annotation.paragraphId);
    if (list) list.push(annotation);
    else lists.set(annotation.paragraphId, [annotation]);
  }
  const result = new Map<string, ParagraphAnnotations>();
  for (const [paragraphId, list] of lists) {
    const ranges = highlightRanges(list);
    result.set(paragraphId, {
      ranges,
      rangesKey: ranges.map((range) => `${range.id}:${range.start}-${range.end}`).join(","),
      comments: list.length,
    });
  }
  return result;
}

const prefersReducedMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

/** The essay of the room. */
export function Essay() {
  const { connection, ui } = useRoom();
  const room = useRoomState()!;
  const revision = connection.revision.value;
  const essay = room.essay;
  const article = useRef<HTMLElement>(null);
  // The room state is mutated in place, so `revision` (not the arrays) says when to recompute.
  const inConsole = moderating(ui, room);
  const annotations = useMemo(() => byParagraph(room.annotations, inConsole), [revision, inConsole]);
  const run = useCommand();
  // One function for every block (a new one per render would re-render all of them).
  const spotlightRef = useRef<(paragraphId: string, on: boolean) => void>(() => {});
  spotlightRef.current = (paragraphId, on) => {
    const number = paragraphNumbers(essay).get(paragraphId);
    void run(on ? `Spotlight paragraph ${number}` : "Clear the spotlight", "room:spotlight", {
      paragraphId: on ? paragraphId : null,
    });
  };
  const onSpotlight = useMemo(
    () => (paragraphId: string, on: boolean) => spotlightRef.current(paragraphId, on),
    [],
  );
  // Recomputed when presence arrives (a revision), not when this reader's focus changes: the
  // counts that hold the new focus come with the next presence.
  const readers = useMemo(() => readersByParagraph(room, connection.countedFocus), [revision]);
  const texts = useMemo(
    () => new Map(essay.paragraphs.filter((p) => isAnnotatable(p.kind)).map((p) => [p.id, p.text])),
    [essay],
  );
  const draft = ui.draftSpan.value;
  const selected = ui.selectedParagraphId.value;
  const spotlight = room.seminar.spotlightParagraphId;
  const following = ui.following.value;

  useSelectionTracking(article, ui, (id) => texts.get(id));
  useFocusReporting(article, essay, (id) => connection.reportFocus(id));

  useEffect(() => {
    if (!following || !spotlight) return;
    document
      .getElementById(`p-${spotlight}`)
      ?.scrollIntoView({ block: "center", behavior: prefersReducedMotion() ? "auto" : "smooth" });
  }, [spotlight, following]);

  const numbers = paragraphNumbers(essay);
  return (
    <article id="essay" class="essay" lang={essay.language ?? undefined} ref={article} tabIndex={-1}>
      <header class="essay-head">
        <h1>{essay.title}</h1>
        {essay.byline && <p class="byline">{essay.byline}</p>}
        {essay.dateline && <p class="dateline">{essay.dateline}</p>}
      </header>
      {essay.paragraphs.map((paragraph) => {
        const info = annotations.get(paragraph.id) ?? EMPTY;
        return (
          <Block
            key={paragraph.id}
            paragraph={paragraph}
            number={numbers.get(paragraph.id) ?? 0}
            ranges={info.ranges}
            rangesKey={info.rangesKey}
            comments={info.comments}
            readers={readers.get(paragraph.id) ?? 0}
            spotlight={spotlight === paragraph.id}
            selected={selected === paragraph.id}
            draft={draft?.paragraphId === paragraph.id ? draft : null}
            ui={ui}
            onSpotlight={inConsole && room.seminar.state === "live" ? onSpotlight : undefined}
          />
        );
      })}
    </article>
  );
}

interface BlockProps {
  paragraph: ParagraphView;
  /** 1-based number among annotatable blocks (0: not annotatable). */
  number: number;
  ranges: HighlightRange[];
  rangesKey: string;
  comments: number;
  readers: number;
  spotlight: boolean;
  selected: boolean;
  draft: SelectedSpan | null;
  ui: RoomUi;
  /** The console's spotlight button (moderators, live): points the room here, or clears it. */
  onSpotlight?: (paragraphId: string, on: boolean) => void;
}

/** One block; re-renders only when what it shows changed (1,000 annotations stay fast). */
class Block extends Component<BlockProps> {
  override shouldComponentUpdate(next: BlockProps): boolean {
    const now = this.props;
    return (
      next.paragraph !== now.paragraph ||
      next.rangesKey !== now.rangesKey ||
      next.comments !== now.comments ||
      next.readers !== now.readers ||
      next.spotlight !== now.spotlight ||
      next.selected !== now.selected ||
      next.draft !== now.draft ||
      next.number !== now.number ||
      next.onSpotlight !== now.onSpotlight
    );
  }

  override render() {
    const { paragraph, number, ranges, comments, readers, spotlight, selected, draft, ui, onSpotlight } =
      this.props;
    const id = `p-${paragraph.id}`;
    if (paragraph.kind === "section_marker") {
      return (
        <p class="block section-marker" id={id}>
          {paragraph.text}
        </p>
      );
    }
    const segments = segmentText(paragraph.text, ranges, draft ?? undefined);
    const content = segments.map((segment) =>
      segment.ids.length === 0 && !segment.draft ? (
        segment.text
      ) : (
        // Highlights are not tab stops (there can be hundreds): the paragraph's button beside it
        // opens the same threads from the keyboard.
        // biome-ignore lint/a11y/useKeyWithClickEvents: keyboard path is the paragraph's comments button.
        <mark
          key={segment.start}
          class={`hl depth-${Math.min(segment.ids.length, 3)}${segment.draft ? " draft" : ""}`}
          data-ids={segment.ids.join(" ")}
          onClick={() => {
            if (!window.getSelection()?.isCollapsed) return;
            ui.openParagraph(paragraph.id);
            ui.focusAnnotationId.value = segment.ids[0] ?? null;
          }}
        >
          {segment.text}
        </mark>
      ),
    );
    const textProps = { [PARAGRAPH_TEXT_ATTRIBUTE]: paragraph.id, class: "text" };
    const level = Math.min(Math.max((paragraph.level ?? 1) + 1, 2), 6);
    const text =
      paragraph.kind === "heading" ? (
        level === 2 ? (
          <h2 {...textProps}>{content}</h2>
        ) : level === 3 ? (
          <h3 {...textProps}>{content}</h3>
        ) : (
          <h4 {...textProps}>{content}</h4>
        )
      ) : (
        <p {...textProps}>{content}</p>
      );
    const classes = ["block", paragraph.kind.replace("_", "-")];
    if (spotlight) classes.push("spotlight");
    if (selected) classes.push("selected");
    return (
      <div class={classes.join(" ")} id={id} data-block={paragraph.id}>
        {spotlight && (
          <p class="spotlight-label">
            {onSpotlight ? "Spotlighted for the room" : "The moderator is pointing here"}
          </p>
        )}
        {paragraph.kind === "quote" ? <blockquote>{text}</blockquote> : text}
        <div class="gutter">
          <button
            type="button"
            class={`comments-button${comments > 0 ? " has-comments" : ""}`}
            aria-label={`Paragraph ${number}: ${plural(comments, "comment", "comments")}. Open the discussion.`}
            aria-expanded={selected}
            onClick={() => ui.openParagraph(paragraph.id, undefined, { focusPanel: true })}
          >
            {comments > 0 ? <CommentIcon /> : <PlusIcon />}
            {comments > 0 && <span aria-hidden="true">{comments}</span>}
          </button>
          {onSpotlight && number > 0 && (
            <button
              type="button"
              class={`spotlight-button${spotlight ? " active" : ""}`}
              aria-pressed={spotlight}
              aria-label={`Spotlight paragraph ${number}`}
              title={spotlight ? "Clear the spotlight" : "Spotlight this paragraph for the room"}
              onClick={() => onSpotlight(paragraph.id, !spotlight)}
            >
              <SpotlightIcon />
            </button>
          )}
          {readers > 0 && (
            <span class="readers">
              <PersonIcon />
              <span aria-hidden="true">{readers.toLocaleString()}</span>
              <span class="sr-only">{plural(readers, "person", "people")} reading here</span>
            </span>
          )}
        </div>
      </div>
    );
  }
}

/** Offers what the reader selects in the essay for a comment (ui.pendingSpan). */
function useSelectionTracking(
  article: { current: HTMLElement | null },
  ui: RoomUi,
  textOf: (paragraphId: string) => string | undefined,
): void {
  const lookup = useRef(textOf);
  lookup.current = textOf;
  useEffect(() => {
    const read = () => {
      const selection = window.getSelection();
      if (!selection || selection.rangeCount === 0 || selection.isCollapsed || !article.current) return;
      const span = spanFromRange(selection.getRangeAt(0), article.current, (id) => lookup.current(id));
      ui.pendingSpan.value = span ?? null;
    };
    // A click or key in the essay that leaves nothing selected withdraws the offer.
    const settle = () => {
      const selection = window.getSelection();
      if (!selection || selection.isCollapsed) ui.pendingSpan.value = null;
      else read();
    };
    document.addEventListener("selectionchange", read);
    const element = article.current;
    element?.addEventListener("pointerup", settle);
    element?.addEventListener("keyup", settle);
    return () => {
      document.removeEventListener("selectionchange", read);
      element?.removeEventListener("pointerup", settle);
      element?.removeEventListener("keyup", settle);
    };
  }, [article, ui]);
}

/** Reports the block nearest the top third of the viewport as the one being read. */
function useFocusReporting(
  article: { current: HTMLElement | null },
  essay: object,
  report: (id: string | null) => void,
): void {
  const reporter = useRef(report);
  reporter.current = report;
  useEffect(() => {
    const element = article.current;
    if (!element || typeof IntersectionObserver === "undefined") return;
    const visible = new Set<HTMLElement>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pick = () => {
      const line = window.innerHeight / 3;
      let best: HTMLElement | undefined;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (const block of visible) {
        const rect = block.getBoundingClientRect();
        const distance =
          rect.top <= line && rect.bottom >= line
            ? 0
            : Math.min(Math.abs(rect.top - line), Math.abs(rect.bottom - line));
        if (distance < bestDistance) {
          bestDistance = distance;
          best = block;
        }
      }
      reporter.current(best?.dataset.block ?? null);
    };
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const block = entry.target as HTMLElement;
        if (entry.isIntersecting) visible.add(block);
        else visible.delete(block);
      }
      clearTimeout(timer);
      timer = setTimeout(pick, 700);
    });
    for (const block of element.querySelectorAll<HTMLElement>("[data-block]")) observer.observe(block);
    return () => {
      clearTimeout(timer);
      observer.disconnect();
    };
    // A replaced essay has new blocks to observe.
  }, [article, essay]);
}
