/**
 * Writing a comment or a reply. Checked with the protocol's schemas before it is queued; queued
 * with a fresh clientId, so it is sent once the connection allows and never twice.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { LIMITS } from "../../../../src/protocol/limits.ts";
import { FormEnd } from "../../ui/FormEnd.tsx";
import { excerpt, newClientId } from "../../ui/text.ts";
import { useRoom, useRoomState } from "../seminars/room-ui.ts";
import { checkComment } from "./comment-input.ts";
import type { SelectedSpan } from "./selection.ts";

/** The form that starts a thread on a paragraph (on the selected span, if any). */
export function Composer(props: { paragraphId: string; span: SelectedSpan | null }) {
  const { connection, ui } = useRoom();
  const room = useRoomState()!;
  const [body, setBody] = useState("");
  const [tags, setTags] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [sent, setSent] = useState<string | null>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const focusRequest = ui.composerFocus.value;

  useEffect(() => {
    if (focusRequest > 0) textarea.current?.focus();
  }, [focusRequest]);

  const submit = (event: Event) => {
    event.preventDefault();
    const checked = checkComment(body, tags);
    if (!checked.ok) {
      setProblem(checked.message);
      return;
    }
    const span = props.span;
    connection.enqueue({
      event: "annotation:create",
      payload: {
        paragraphId: props.paragraphId,
        ...(span
          ? {
              selector: {
                start: span.start,
                end: span.end,
                exact: span.exact,
                prefix: span.prefix,
                suffix: span.suffix,
              },
            }
          : {}),
        body: checked.body,
        tags: checked.tags,
        clientId: newClientId(),
      },
    });
    setBody("");
    setTags("");
    setProblem(null);
    setSent(
      connection.status.value === "live"
        ? "Comment sent."
        : "Comment saved; it is sent when you are back online.",
    );
    ui.draftSpan.value = null;
  };

  return (
    <form class="composer" onSubmit={submit} aria-label="New comment">
      {props.span ? (
        <div class="composer-quote">
          <p class="label">Commenting on</p>
          <blockquote lang={room.essay.language ?? undefined}>{excerpt(props.span.exact, 160)}</blockquote>
          <button
            type="button"
            class="link"
            onClick={() => {
              ui.draftSpan.value = null;
            }}
          >
            Comment on the whole paragraph instead
          </button>
        </div>
      ) : (
        <p class="hint">Commenting on the whole paragraph. To quote a passage, select it in the essay.</p>
      )}
      <label for="composer-body">Your comment</label>
      <textarea
        id="composer-body"
        ref={textarea}
        value={body}
        rows={3}
        maxLength={LIMITS.annotationBody.max * 2}
        onInput={(event) => {
          setBody(event.currentTarget.value);
          setSent(null);
        }}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? "composer-problem" : undefined}
      />
      <label for="composer-tags">Tags (optional, separated by commas)</label>
      <input id="composer-tags" value={tags} onInput={(event) => setTags(event.currentTarget.value)} />
      {problem && (
        <p class="field-error" id="composer-problem" role="alert">
          {problem}
        </p>
      )}
      <div class="composer-actions">
        <button type="submit" class="primary">
          Comment
        </button>
        {sent && (
          <span class="sent" role="status">
            {sent}
          </span>
        )}
      </div>
    </form>
  );
}

/** The form that answers a thread. */
export function ReplyComposer(props: { parentId: string; onClose: () => void }) {
  const { connection } = useRoom();
  const [body, setBody] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const fieldId = `reply-${props.parentId}`;

  useEffect(() => textarea.current?.focus(), []);

  const submit = (event: Event) => {
    event.preventDefault();
    const checked = checkComment(body, "");
    if (!checked.ok) {
      setProblem(checked.message);
      return;
    }
    connection.enqueue({
      event: "annotation:reply",
      payload: { parentId: props.parentId, body: checked.body, clientId: newClientId() },
    });
    props.onClose();
  };

  return (
    <form class="reply-composer" onSubmit={submit} aria-label="Reply">
      <label for={fieldId}>Your reply</label>
      <textarea
        id={fieldId}
        ref={textarea}
        value={body}
        rows={2}
        onInput={(event) => setBody(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") props.onClose();
        }}
        aria-invalid={problem ? true : undefined}
      />
      <FormEnd problem={problem} submit="Reply" onCancel={props.onClose} />
    </form>
  );
}
