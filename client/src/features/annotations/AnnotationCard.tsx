/**
 * One comment or reply: author, time, quote, body, tags, reactions, and for its author edit and
 * delete. Every user-supplied string is rendered as a text node (never as HTML), with
 * `white-space: pre-wrap` keeping its line breaks.
 */
import { useState } from "preact/hooks";
import { REACTION_KINDS, type ReactionKind } from "../../../../src/protocol/annotations.ts";
import type { AnnotationView, MemberView } from "../../../../src/protocol/views.ts";
import { FormEnd } from "../../ui/FormEnd.tsx";
import { timeOf } from "../../ui/text.ts";
import { AnnotationModeration } from "../console/AnnotationModeration.tsx";
import { abilitiesIn, moderating, useRoom, useRoomState } from "../seminars/room-ui.ts";
import { checkComment } from "./comment-input.ts";

/** How each reaction is labelled. */
export const REACTION_LABELS: Record<ReactionKind, string> = {
  agree: "Agree",
  disagree: "Disagree",
  question: "Question",
  insightful: "Insightful",
  heart: "Love",
};

/** The name to show for a member id. */
export function nameOf(members: readonly MemberView[], memberId: string): string {
  return members.find((member) => member.id === memberId)?.displayName ?? "Someone";
}

/** A comment or reply. */
export function AnnotationCard(props: { annotation: AnnotationView; onReply?: () => void }) {
  const { connection, ui } = useRoom();
  const room = useRoomState()!;
  const { annotation } = props;
  const moderator = moderating(ui, room);
  const mine = annotation.authorId === room.viewer.memberId;
  const can = abilitiesIn(room);
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const author = room.members.find((member) => member.id === annotation.authorId);
  const byModerator = author?.role === "host" || author?.role === "co_moderator";

  const run = async (command: Parameters<typeof connection.sendNow>[0]) => {
    setError(null);
    const result = await connection.sendNow(command);
    if (!result.ok) setError(result.error.message);
    return result.ok;
  };

  if (annotation.deleted) {
    return (
      <article class="annotation deleted" id={`a-${annotation.id}`} tabIndex={-1}>
        <p>This comment was deleted.</p>
      </article>
    );
  }

  return (
    <article
      class={`annotation${annotation.pinned ? " pinned" : ""}${annotation.hidden ? " is-hidden" : ""}`}
      id={`a-${annotation.id}`}
      tabIndex={-1}
      aria-labelledby={`a-${annotation.id}-author`}
    >
      <header class="annotation-head">
        <span class="author" id={`a-${annotation.id}-author`}>
          {author?.displayName ?? "Someone"}
        </span>
        {byModerator && <span class="badge">Moderator</span>}
        {annotation.hidden && moderator && <span class="badge hidden-badge">Hidden</span>}
        {mine && <span class="badge subtle">You</span>}
        {annotation.pinned && <span class="badge pin">Pinned</span>}
        <time dateTime={annotation.createdAt}>{timeOf(annotation.createdAt)}</time>
        {annotation.editedAt && <span class="edited">edited</span>}
      </header>
      {annotation.hidden && (
        <p class="hidden-note">
          {moderator
            ? "Hidden from participants: only moderators and its author see it."
            : "A moderator hid this comment; only you can see it."}
        </p>
      )}
      {!annotation.parentId && annotation.selector && (
        <blockquote class="quote" lang={room.essay.language ?? undefined}>
          {annotation.selector.exact}
        </blockquote>
      )}
      {editing ? (
        <EditForm
          annotation={annotation}
          onCancel={() => setEditing(false)}
          onSave={async (body, tags) => {
            const done = await run({
              event: "annotation:edit",
              payload: { annotationId: annotation.id, body, tags, version: annotation.version },
            });
            if (done) setEditing(false);
          }}
        />
      ) : (
        <p class="body">{annotation.body}</p>
      )}
      {annotation.tags.length > 0 && !editing && (
        <ul class="tags" aria-label="Tags">
          {annotation.tags.map((tag) => (
            <li key={tag}>#{tag}</li>
          ))}
        </ul>
      )}
      <fieldset class="reactions">
        <legend class="sr-only">Reactions</legend>
        {REACTION_KINDS.map((kind) => {
          const who = annotation.reactions[kind] ?? [];
          const active = who.includes(room.viewer.memberId);
          if (!can.annotate && who.length === 0) return null;
          return (
            <button
              key={kind}
              type="button"
              class={`reaction${active ? " active" : ""}`}
              aria-pressed={active}
              disabled={!can.annotate || annotation.hidden}
              title={who.map((id) => nameOf(room.members, id)).join(", ") || undefined}
              onClick={() =>
                void run({ event: "annotation:react", payload: { annotationId: annotation.id, kind } })
              }
            >
              {REACTION_LABELS[kind]}
              {who.length > 0 && <span class="count">{who.length}</span>}
            </button>
          );
        })}
      </fieldset>
      {can.annotate && !editing && (
        <div class="annotation-actions">
          {props.onReply && !annotation.hidden && (
            <button type="button" class="link" onClick={props.onReply}>
              Reply
            </button>
          )}
          {mine && !annotation.hidden && (
            <button type="button" class="link" onClick={() => setEditing(true)}>
              Edit
            </button>
          )}
          {mine &&
            (confirmDelete ? (
              <span class="confirm">
                <button
                  type="button"
                  class="link danger"
                  onClick={async () => {
                    if (await run({ event: "annotation:delete", payload: { annotationId: annotation.id } }))
                      setConfirmDelete(false);
                  }}
                >
                  Yes, delete
                </button>
                <button type="button" class="link" onClick={() => setConfirmDelete(false)}>
                  Keep it
                </button>
              </span>
            ) : (
              <button type="button" class="link" onClick={() => setConfirmDelete(true)}>
                Delete
              </button>
            ))}
        </div>
      )}
      {moderator && (
        <AnnotationModeration annotation={annotation} authorName={author?.displayName ?? "Someone"} />
      )}
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}

function EditForm(props: {
  annotation: AnnotationView;
  onSave: (body: string, tags: string[]) => Promise<void>;
  onCancel: () => void;
}) {
  const [body, setBody] = useState(props.annotation.body);
  const [tags, setTags] = useState(props.annotation.tags.join(", "));
  const [problem, setProblem] = useState<string | null>(null);
  const id = `edit-${props.annotation.id}`;
  return (
    <form
      class="edit-form"
      onSubmit={(event) => {
        event.preventDefault();
        const checked = checkComment(body, tags);
        if (!checked.ok) setProblem(checked.message);
        else void props.onSave(checked.body, checked.tags);
      }}
    >
      <label for={`${id}-body`}>Edit your comment</label>
      <textarea
        id={`${id}-body`}
        value={body}
        rows={3}
        onInput={(event) => setBody(event.currentTarget.value)}
      />
      <label for={`${id}-tags`}>Tags</label>
      <input id={`${id}-tags`} value={tags} onInput={(event) => setTags(event.currentTarget.value)} />
      <FormEnd problem={problem} submit="Save" onCancel={props.onCancel} />
    </form>
  );
}
