/**
 * The comments tab: the selected paragraph's threads with their replies, the composer, and the
 * writes still waiting in the outbox (or refused, with the reason). Without a selected
 * paragraph, the latest threads of the whole essay.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { OutboxItem } from "../../connection/outbox.ts";
import { excerpt, plural } from "../../ui/text.ts";
import { paragraphNumbers } from "../essays/numbering.ts";
import { abilitiesIn, moderating, useRoom, useRoomState } from "../seminars/room-ui.ts";
import { AnnotationCard } from "./AnnotationCard.tsx";
import { Composer, ReplyComposer } from "./Composer.tsx";
import { type Thread, threadsOf } from "./threads.ts";

/** The comments tab. */
export function ThreadPanel() {
  const { connection, ui } = useRoom();
  const room = useRoomState()!;
  const paragraphId = ui.selectedParagraphId.value;
  const focusId = ui.focusAnnotationId.value;
  const outbox = connection.outbox.items.value;
  const can = abilitiesIn(room);
  const heading = useRef<HTMLHeadingElement>(null);
  const panelFocus = ui.panelFocus.value;

  useEffect(() => {
    if (panelFocus > 0) heading.current?.focus();
  }, [panelFocus]);

  useEffect(() => {
    if (!focusId) return;
    const element = document.getElementById(`a-${focusId}`);
    if (element) {
      element.scrollIntoView({ block: "nearest" });
      element.focus({ preventScroll: true });
    }
    ui.focusAnnotationId.value = null;
  }, [focusId, paragraphId]);

  const paragraph = paragraphId ? room.essay.paragraphs.find((item) => item.id === paragraphId) : undefined;
  const threads = threadsOf(
    room.annotations,
    paragraph?.id ?? null,
    room.viewer.memberId,
    moderating(ui, room),
  );
  const refused = outbox.filter((item) => item.state === "refused" && item.command.event !== "prompt:vote");

  if (!paragraph) {
    const latest = threads.slice(-20).reverse();
    return (
      <section class="threads" aria-labelledby="threads-title">
        <h2 id="threads-title">Comments</h2>
        <p class="hint">
          Select a passage in the essay to comment on it, or use the button beside a paragraph to see its
          discussion.
        </p>
        <RefusedList items={refused} />
        {latest.length > 0 && <h3>Latest</h3>}
        <ul class="overview">
          {latest.map((thread) => (
            <li key={thread.root.id}>
              <button
                type="button"
                class="overview-item"
                onClick={() => {
                  ui.openParagraph(thread.root.paragraphId);
                  ui.focusAnnotationId.value = thread.root.id;
                }}
              >
                <span class="author">
                  {room.members.find((member) => member.id === thread.root.authorId)?.displayName ??
                    "Someone"}
                </span>
                <span class="snippet">{excerpt(thread.root.body || "(deleted)", 90)}</span>
                <span class="meta">{plural(thread.replies.length, "reply", "replies")}</span>
              </button>
            </li>
          ))}
        </ul>
      </section>
    );
  }

  const pendingRoots = outbox.filter(
    (item) =>
      item.state !== "refused" &&
      item.command.event === "annotation:create" &&
      item.command.payload.paragraphId === paragraph.id,
  );
  const number = paragraphNumbers(room.essay).get(paragraph.id);

  return (
    <section class="threads" aria-labelledby="threads-title">
      <div class="threads-head">
        <h2 id="threads-title" ref={heading} tabIndex={-1}>
          Paragraph {number}
        </h2>
        <button
          type="button"
          class="link"
          onClick={() => {
            ui.selectedParagraphId.value = null;
            ui.draftSpan.value = null;
          }}
        >
          All comments
        </button>
      </div>
      <p class="paragraph-excerpt" lang={room.essay.language ?? undefined}>
        {excerpt(paragraph.text, 120)}
      </p>
      {can.annotate && <Composer paragraphId={paragraph.id} span={ui.draftSpan.value} />}
      <RefusedList items={refused} />
      <p class="threads-count">{plural(threads.length, "thread", "threads")}</p>
      <ol class="thread-list">
        {threads.map((thread) => (
          <ThreadItem key={thread.root.id} thread={thread} outbox={outbox} />
        ))}
        {pendingRoots.map((item) => (
          <li key={item.key} class="thread">
            <PendingCard item={item} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function ThreadItem(props: { thread: Thread; outbox: OutboxItem[] }) {
  const [replying, setReplying] = useState(false);
  const { thread } = props;
  const pending = props.outbox.filter(
    (item) =>
      item.state !== "refused" &&
      item.command.event === "annotation:reply" &&
      item.command.payload.parentId === thread.root.id,
  );
  return (
    <li class="thread">
      <AnnotationCard
        annotation={thread.root}
        onReply={thread.root.deleted ? undefined : () => setReplying(true)}
      />
      {(thread.replies.length > 0 || pending.length > 0) && (
        <ol class="replies" aria-label={plural(thread.replies.length, "reply", "replies")}>
          {thread.replies.map((reply) => (
            <li key={reply.id}>
              <AnnotationCard annotation={reply} />
            </li>
          ))}
          {pending.map((item) => (
            <li key={item.key}>
              <PendingCard item={item} />
            </li>
          ))}
        </ol>
      )}
      {replying && <ReplyComposer parentId={thread.root.id} onClose={() => setReplying(false)} />}
    </li>
  );
}

/** A comment or reply that has not reached the server yet. */
function PendingCard(props: { item: OutboxItem }) {
  const { connection } = useRoom();
  const { command } = props.item;
  if (command.event === "prompt:vote") return null;
  const live = connection.status.value === "live";
  return (
    <article class="annotation pending" aria-label="Not sent yet">
      <header class="annotation-head">
        <span class="author">You</span>
        <span class="badge subtle">{live ? "Sending…" : "Waiting for the connection"}</span>
      </header>
      <p class="body">{command.payload.body}</p>
    </article>
  );
}

/** Writes the server refused: shown with its reason until dismissed, so nothing vanishes silently. */
function RefusedList(props: { items: OutboxItem[] }) {
  const { connection } = useRoom();
  if (props.items.length === 0) return null;
  return (
    <div class="refused" role="alert">
      <h3>Not saved</h3>
      <ul>
        {props.items.map((item) =>
          item.command.event === "prompt:vote" ? null : (
            <li key={item.key}>
              <p class="body">{item.command.payload.body}</p>
              <p class="field-error">{item.error?.message ?? "The server refused this."}</p>
              <button type="button" class="link" onClick={() => connection.outbox.remove(item.key)}>
                Dismiss
              </button>
            </li>
          ),
        )}
      </ul>
    </div>
  );
}
