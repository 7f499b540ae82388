/**
 * `/projector/<seminarId>`: the room's screen. Large type for the back of a room: the current
 * question's tally (when its results may be shown to the room) and the spotlighted paragraph,
 * with the join code and the phase's countdown. No controls; it follows the room live with the
 * signed-in moderator's account, like the console.
 */
import { useEffect } from "preact/hooks";
import type { PromptView, RoomSnapshot, SpotlightView } from "../../../../src/protocol/views.ts";
import { ModeratorRoom } from "../console/moderator-room.tsx";
import { PhaseCountdown } from "../console/PhaseCountdown.tsx";
import { tallyRows } from "../prompts/tally.ts";
import { ConnectionIndicator } from "../seminars/ConnectionIndicator.tsx";
import { Loading } from "../seminars/RoomPage.tsx";
import { useRoom, useRoomState } from "../seminars/room-ui.ts";
import { currentPrompt, resultsForRoom } from "./current.ts";

/** The projector page. */
export function ProjectorPage(props: { seminarId: string }) {
  return (
    <ModeratorRoom seminarId={props.seminarId} signInNotice="Sign in to open the projector view.">
      <Projector />
    </ModeratorRoom>
  );
}

function Projector() {
  const { connection } = useRoom();
  const room = useRoomState();
  useEffect(() => {
    if (room) document.title = `${room.seminar.title} · Projector · Stepstone`;
  }, [room?.seminar.title]);
  if (!room) {
    const ended = connection.ended.value;
    return ended ? (
      <main class="loading" id="main">
        <p role="alert">{ended.message}</p>
      </main>
    ) : (
      <Loading text="Opening the projector view…" />
    );
  }
  const prompt = currentPrompt(room);
  return (
    <div class="projector">
      <header class="projector-head">
        <h1>{room.seminar.title}</h1>
        <div class="projector-meta">
          {room.seminar.joinCode && room.seminar.state !== "ended" && (
            <p class="projector-join">
              Join with code <strong class="join-code">{room.seminar.joinCode}</strong>
            </p>
          )}
          {room.seminar.state === "ended" && <p class="projector-join">The session has ended.</p>}
          <PhaseCountdown phase={room.phase} large />
          <ConnectionIndicator />
        </div>
      </header>
      <main id="main" class={`projector-body${prompt && room.spotlight ? " both" : ""}`}>
        {room.spotlight && <SpotlightPanel room={room} spotlight={room.spotlight} />}
        {prompt && <PromptPanel room={room} prompt={prompt} />}
        {!prompt && !room.spotlight && (
          <p class="projector-idle">
            {room.seminar.state === "draft" ? "The session starts soon." : "Reading together."}
          </p>
        )}
      </main>
    </div>
  );
}

/** The spotlighted paragraph, its span marked (offsets in code points). */
function SpotlightPanel(props: { room: RoomSnapshot; spotlight: SpotlightView }) {
  const paragraph = props.room.essay.paragraphs.find((item) => item.id === props.spotlight.paragraphId);
  if (!paragraph) return null;
  const chars = Array.from(paragraph.text);
  const { start, end } = props.spotlight;
  return (
    <section class="projector-spotlight" aria-labelledby="projector-spotlight-title">
      <h2 id="projector-spotlight-title">We are reading</h2>
      <p class="projector-paragraph" lang={props.room.essay.language ?? undefined}>
        {start !== null && end !== null ? (
          <>
            {chars.slice(0, start).join("")}
            <mark>{chars.slice(start, end).join("")}</mark>
            {chars.slice(end).join("")}
          </>
        ) : (
          paragraph.text
        )}
      </p>
    </section>
  );
}

/** The question with its tally in large bars, or a count of votes while its results are held back. */
function PromptPanel(props: { room: RoomSnapshot; prompt: PromptView }) {
  const { prompt } = props;
  const tally = props.room.tallies.find((item) => item.promptId === prompt.id);
  const ballots = tally?.ballots ?? 0;
  const shown = resultsForRoom(prompt);
  return (
    <section class="projector-prompt" aria-labelledby="projector-prompt-title" data-prompt={prompt.id}>
      <h2 id="projector-prompt-title">{prompt.question}</h2>
      <p class="projector-prompt-state">
        {prompt.state === "open" ? "Voting is open" : "Voting is closed"} · {ballots}{" "}
        {ballots === 1 ? "vote" : "votes"}
      </p>
      {shown && tally ? (
        <ul class="projector-bars" aria-label="Results">
          {tallyRows(prompt, tally).map((row) => (
            <li key={row.optionId} class="projector-bar-row">
              <span class="option-label">{row.label}</span>
              <span class="projector-bar" aria-hidden="true">
                <span class="bar-fill" style={{ transform: `scaleX(${row.percent / 100})` }} />
              </span>
              <span class="bar-figures" data-option={row.optionId}>
                {row.count} · {row.percent}%
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p class="projector-hidden">
          {prompt.resultsVisibility === "after_close"
            ? "Results are shown when voting closes."
            : "Results are shown when the moderator reveals them."}
        </p>
      )}
    </section>
  );
}
