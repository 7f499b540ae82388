/**
 * The questions tab: every opened prompt as a card, with the ballot form while it is open and
 * the tally as bars when the viewer may see it. A ballot goes through the outbox with a fresh
 * clientBallotId, so a vote made offline is sent on reconnect and counted once.
 */
import { useEffect, useState } from "preact/hooks";
import type { BallotView, PromptView, TallyView } from "../../../../src/protocol/views.ts";
import type { OutboxItem } from "../../connection/outbox.ts";
import { newClientId } from "../../ui/text.ts";
import { abilitiesIn, useRoom, useRoomState } from "../seminars/room-ui.ts";
import { TallyBars } from "./TallyBars.tsx";

/** The questions tab. */
export function PromptList() {
  const room = useRoomState()!;
  const prompts = room.prompts.filter((prompt) => prompt.state !== "draft");
  return (
    <section class="prompts" aria-labelledby="prompts-title">
      <h2 id="prompts-title">Questions</h2>
      {prompts.length === 0 && (
        <p class="hint">No questions yet. They appear here when the moderator opens one.</p>
      )}
      {prompts.map((prompt) => (
        <PromptCard key={prompt.id} prompt={prompt} />
      ))}
    </section>
  );
}

/** What to say about a prompt's kind. */
function instructions(prompt: PromptView): string {
  if (prompt.kind === "multiple_choice")
    return prompt.maxChoices === 1 ? "Choose one." : `Choose up to ${prompt.maxChoices}.`;
  if (prompt.kind === "scale") return "Choose a point on the scale.";
  return "Choose one.";
}

/** Why no tally is shown. */
function hiddenResults(prompt: PromptView): string {
  if (prompt.resultsVisibility === "moderators") return "Only the moderators see the results.";
  if (prompt.resultsVisibility === "after_close") return "Results are shown when the question closes.";
  return "No votes yet.";
}

function sameChoice(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

/** One prompt. */
export function PromptCard(props: { prompt: PromptView }) {
  const { connection } = useRoom();
  const room = useRoomState()!;
  const { prompt } = props;
  const ballot: BallotView | undefined = room.myBallots.find((item) => item.promptId === prompt.id);
  const tally: TallyView | undefined = room.tallies.find((item) => item.promptId === prompt.id);
  const queued: OutboxItem | undefined = connection.outbox.items.value.find(
    (item) => item.command.event === "prompt:vote" && item.command.payload.promptId === prompt.id,
  );
  const queuedChoice = queued?.command.event === "prompt:vote" ? queued.command.payload.optionIds : undefined;
  const stored = ballot?.optionIds ?? [];
  const [choice, setChoice] = useState<string[]>(queuedChoice ?? stored);
  const can = abilitiesIn(room);
  const open = prompt.state === "open";
  const multiple = prompt.kind === "multiple_choice";
  const inputType = multiple ? "checkbox" : "radio";
  const titleId = `prompt-${prompt.id}`;

  // Show the stored ballot when it arrives (after a reconnect, or from another tab).
  const storedKey = stored.join(",");
  // storedKey stands for the stored ballot (its array is a new one on every render).
  useEffect(() => {
    if (!queued) setChoice(stored);
  }, [storedKey]);

  const toggle = (optionId: string, checked: boolean) => {
    if (!multiple) setChoice([optionId]);
    else if (checked) setChoice([...choice.filter((id) => id !== optionId), optionId]);
    else setChoice(choice.filter((id) => id !== optionId));
  };

  const submit = (event: Event) => {
    event.preventDefault();
    if (choice.length === 0) return;
    connection.enqueue({
      event: "prompt:vote",
      payload: { promptId: prompt.id, optionIds: choice, clientBallotId: newClientId() },
    });
  };

  const unchanged = sameChoice(choice, queuedChoice ?? stored);
  const full = multiple && choice.length >= prompt.maxChoices;
  const status = voteStatus(prompt, ballot, queued, connection.status.value === "live");

  return (
    <article class={`prompt prompt-${prompt.state}`} aria-labelledby={titleId}>
      <header class="prompt-head">
        <h3 id={titleId}>{prompt.question}</h3>
        <span class={`badge state-${prompt.state}`}>{open ? "Open" : "Closed"}</span>
      </header>
      {open && can.vote ? (
        <form onSubmit={submit} class="ballot">
          <fieldset>
            <legend>{instructions(prompt)}</legend>
            <div class={`options${prompt.kind === "scale" ? " scale" : ""}`}>
              {prompt.options.map((option) => {
                const checked = choice.includes(option.id);
                return (
                  <label key={option.id} class={`option${checked ? " checked" : ""}`}>
                    <input
                      type={inputType}
                      name={`ballot-${prompt.id}`}
                      value={option.id}
                      checked={checked}
                      disabled={!checked && full}
                      onChange={(event) => toggle(option.id, event.currentTarget.checked)}
                    />
                    <span>{option.label}</span>
                  </label>
                );
              })}
            </div>
          </fieldset>
          <div class="ballot-actions">
            <button type="submit" class="primary" disabled={choice.length === 0 || unchanged}>
              {ballot || queued ? "Change vote" : "Vote"}
            </button>
            {status && (
              <p class={`vote-status${queued?.state === "refused" ? " field-error" : ""}`} role="status">
                {status}
              </p>
            )}
          </div>
          {queued?.state === "refused" && (
            <button type="button" class="link" onClick={() => connection.outbox.remove(queued.key)}>
              Dismiss
            </button>
          )}
        </form>
      ) : (
        open && (
          <p class="hint">
            {room.viewer.role === "observer" ? "Observers do not vote." : instructions(prompt)}
          </p>
        )
      )}
      {!open && ballot && (
        <p class="vote-status">
          You voted:{" "}
          {prompt.options
            .filter((option) => ballot.optionIds.includes(option.id))
            .map((o) => o.label)
            .join(", ")}
        </p>
      )}
      {tally ? (
        <TallyBars prompt={prompt} tally={tally} mine={ballot?.optionIds ?? []} />
      ) : (
        <p class="hint">{hiddenResults(prompt)}</p>
      )}
    </article>
  );
}

function voteStatus(
  prompt: PromptView,
  ballot: BallotView | undefined,
  queued: OutboxItem | undefined,
  live: boolean,
): string | null {
  if (queued?.state === "refused") return `Your vote was not counted: ${queued.error?.message ?? "refused"}`;
  if (queued)
    return live ? "Sending your vote…" : "Your vote is saved here and sent when you are back online.";
  if (ballot) {
    const labels = prompt.options
      .filter((option) => ballot.optionIds.includes(option.id))
      .map((o) => o.label);
    return `Your vote: ${labels.join(", ")}`;
  }
  return null;
}
