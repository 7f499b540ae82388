/**
 * The console's Questions tab: every prompt, drafts included, with its state and the moderator's
 * transitions (open, close, reopen, reveal), the live tally, and for named prompts who voted for
 * what.
 */
import type { PromptView, TallyView } from "../../../../src/protocol/views.ts";
import { excerpt } from "../../ui/text.ts";
import { nameOf } from "../annotations/AnnotationCard.tsx";
import { TallyBars } from "../prompts/TallyBars.tsx";
import { useRoomState } from "../seminars/room-ui.ts";
import { useCommand } from "./commands.ts";

const VISIBILITY: Record<PromptView["resultsVisibility"], string> = {
  live: "results shown live",
  after_close: "results after closing",
  moderators: "results for moderators only",
};

/** The console's Questions tab. */
export function ConsolePrompts() {
  const room = useRoomState()!;
  return (
    <section class="prompts console-prompts" aria-labelledby="prompts-title">
      <h2 id="prompts-title">Questions</h2>
      {room.prompts.length === 0 && <p class="hint">This seminar has no questions.</p>}
      {room.prompts.map((prompt) => (
        <ConsolePromptCard
          key={prompt.id}
          prompt={prompt}
          tally={room.tallies.find((item) => item.promptId === prompt.id)}
        />
      ))}
    </section>
  );
}

function ConsolePromptCard(props: { prompt: PromptView; tally: TallyView | undefined }) {
  const room = useRoomState()!;
  const run = useCommand();
  const { prompt, tally } = props;
  const live = room.seminar.state === "live";
  const titleId = `console-prompt-${prompt.id}`;
  const short = `“${excerpt(prompt.question, 40)}”`;
  const ref = { promptId: prompt.id };
  const state = prompt.state === "draft" ? "Draft" : prompt.state === "open" ? "Open" : "Closed";

  return (
    <article class={`prompt prompt-${prompt.state}`} aria-labelledby={titleId} data-prompt={prompt.id}>
      <header class="prompt-head">
        <h3 id={titleId}>{prompt.question}</h3>
        <span class={`badge state-${prompt.state}`}>{state}</span>
      </header>
      <p class="prompt-meta">
        {prompt.anonymous ? "Anonymous" : "Named"} · {VISIBILITY[prompt.resultsVisibility]}
        {prompt.revealed ? " · revealed to participants" : ""}
      </p>
      <div class="prompt-actions">
        {prompt.state === "draft" && (
          <button
            type="button"
            class="primary"
            disabled={!live}
            onClick={() => void run(`Open ${short}`, "prompt:open", ref)}
          >
            Open
          </button>
        )}
        {prompt.state === "open" && (
          <button
            type="button"
            disabled={!live}
            onClick={() => void run(`Close ${short}`, "prompt:close", ref)}
          >
            Close
          </button>
        )}
        {prompt.state === "closed" && (
          <button
            type="button"
            disabled={!live}
            onClick={() => void run(`Reopen ${short}`, "prompt:reopen", ref)}
          >
            Reopen
          </button>
        )}
        {prompt.state !== "draft" && !prompt.revealed && (
          <button
            type="button"
            class="quiet"
            disabled={!live}
            onClick={() => void run(`Reveal ${short}`, "prompt:reveal", ref)}
          >
            Reveal results
          </button>
        )}
      </div>
      {tally && prompt.state !== "draft" ? (
        <>
          <TallyBars prompt={prompt} tally={tally} mine={[]} />
          {!prompt.anonymous && tally.voters && <Voters prompt={prompt} voters={tally.voters} />}
        </>
      ) : (
        prompt.state !== "draft" && <p class="hint">No votes yet.</p>
      )}
    </article>
  );
}

/** Who picked each option of a named prompt. */
function Voters(props: { prompt: PromptView; voters: Record<string, string[]> }) {
  const room = useRoomState()!;
  return (
    <details class="voters">
      <summary>Who voted for what</summary>
      <dl>
        {props.prompt.options.map((option) => {
          const ids = props.voters[option.id] ?? [];
          return (
            <div key={option.id} class="voter-row">
              <dt>{option.label}</dt>
              <dd>{ids.length > 0 ? ids.map((id) => nameOf(room.members, id)).join(", ") : "nobody"}</dd>
            </div>
          );
        })}
      </dl>
    </details>
  );
}
