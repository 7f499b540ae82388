/**
 * The console's room controls under the top bar: the session (start, end with a confirmation),
 * lock, slow mode, phases with their countdown, the spotlight, and the projector view. On a
 * phone the bar keeps one line (the session's state, the countdown and a Controls button that
 * shows or hides the rest), so the essay is not pushed below the fold.
 */
import { useRef, useState } from "preact/hooks";
import { PHASE_KINDS } from "../../../../src/protocol/moderation.ts";
import type { PhaseKind } from "../../../../src/protocol/views.ts";
import { pathOf } from "../../router.ts";
import { paragraphNumbers } from "../essays/numbering.ts";
import { useRoom, useRoomState } from "../seminars/room-ui.ts";
import { describeRefusal, useCommand } from "./commands.ts";
import { PhaseCountdown } from "./PhaseCountdown.tsx";

/** How each phase kind is offered. */
export const PHASE_NAMES: Record<PhaseKind, string> = {
  reading: "Reading",
  discussion: "Discussion",
  voting: "Voting",
  wrap_up: "Wrap-up",
  custom: "Custom…",
};

const END_ACTION = "End the session";

const SLOW_MODE_CHOICES = [0, 10, 30, 60, 120, 300];

/** The controls bar. */
export function ConsoleControls() {
  const room = useRoomState()!;
  const run = useCommand();
  const { seminar } = room;
  const live = seminar.state === "live";
  const spotlight = room.spotlight;
  const spotlightNumber = spotlight ? paragraphNumbers(room.essay).get(spotlight.paragraphId) : undefined;
  // Shown or hidden on a phone only; wider screens always show every group (the button is hidden).
  const [open, setOpen] = useState(false);

  return (
    <section class={`console-controls${open ? " open" : ""}`} aria-label="Room controls">
      <div class="controls-summary">
        <span class={`badge state-${seminar.state}`}>
          {seminar.state === "draft"
            ? "Not started"
            : seminar.state === "live"
              ? "Session live"
              : "Session ended"}
        </span>
        {live && <PhaseCountdown phase={room.phase} />}
        <button
          type="button"
          class="quiet controls-toggle"
          aria-expanded={open}
          aria-controls="console-control-groups"
          onClick={() => setOpen(!open)}
        >
          Controls <span class="toggle-arrow" aria-hidden="true" />
        </button>
      </div>
      <div class="control-groups" id="console-control-groups">
        <div class="control-group">
          {seminar.state === "draft" && (
            <button
              type="button"
              class="primary"
              onClick={() => void run("Start the session", "seminar:start", {})}
            >
              Start session
            </button>
          )}
          {live && <EndSession />}
          <a
            class="button quiet"
            href={pathOf({ page: "projector", seminarId: seminar.id })}
            target="_blank"
            rel="noopener"
          >
            Projector view
          </a>
          <a class="button quiet" href={pathOf({ page: "seminar", seminarId: seminar.id })}>
            Seminar page
          </a>
        </div>
        {seminar.state !== "ended" && (
          <div class="control-group">
            <button
              type="button"
              aria-pressed={seminar.locked}
              onClick={() =>
                void run(
                  seminar.locked ? "Unlock the room" : "Lock the room",
                  seminar.locked ? "room:unlock" : "room:lock",
                  {},
                )
              }
            >
              {seminar.locked ? "Room locked" : "Lock room"}
            </button>
            <label class="inline-field">
              Slow mode
              <select
                value={String(seminar.slowModeSeconds)}
                onChange={(event) => {
                  const seconds = Number(event.currentTarget.value);
                  void run(
                    seconds === 0 ? "Turn slow mode off" : `Set slow mode to ${seconds} s`,
                    "room:slow_mode",
                    { seconds },
                  );
                }}
              >
                {[...new Set([...SLOW_MODE_CHOICES, seminar.slowModeSeconds])]
                  .sort((a, b) => a - b)
                  .map((seconds) => (
                    <option key={seconds} value={String(seconds)}>
                      {seconds === 0 ? "Off" : `${seconds} s`}
                    </option>
                  ))}
              </select>
            </label>
          </div>
        )}
        {live && (
          <div class="control-group">
            <PhaseForm />
          </div>
        )}
        {live && (
          <div class="control-group">
            <span class="spotlight-status">
              {spotlight ? `Spotlight: paragraph ${spotlightNumber ?? "?"}` : "No spotlight"}
            </span>
            {spotlight && (
              <button
                type="button"
                class="quiet"
                onClick={() => void run("Clear the spotlight", "room:spotlight", { paragraphId: null })}
              >
                Clear spotlight
              </button>
            )}
          </div>
        )}
      </div>
    </section>
  );
}

/** Starts a phase (kind, optional label and minutes) or leaves phases. */
function PhaseForm() {
  const room = useRoomState()!;
  const run = useCommand();
  const [kind, setKind] = useState<PhaseKind>("discussion");
  const [label, setLabel] = useState("");
  const [minutes, setMinutes] = useState("5");
  const running = room.phase !== null && room.phase.endedAt === null;

  return (
    <form
      class="phase-form"
      onSubmit={(event) => {
        event.preventDefault();
        const duration = Math.round(Number(minutes) * 60);
        const name = label.trim();
        void run(`Start the ${PHASE_NAMES[kind].replace("…", "")} phase`, "room:phase", {
          phase: kind,
          ...(name ? { label: name } : {}),
          ...(duration > 0 ? { durationSeconds: duration } : {}),
        });
      }}
    >
      <label class="inline-field">
        Phase
        <select
          value={kind}
          onChange={(event) => {
            const next = PHASE_KINDS.find((item) => item === event.currentTarget.value);
            if (next) setKind(next);
          }}
        >
          {PHASE_KINDS.map((item) => (
            <option key={item} value={item}>
              {PHASE_NAMES[item]}
            </option>
          ))}
        </select>
      </label>
      {kind === "custom" && (
        <label class="inline-field">
          Name
          <input
            value={label}
            maxLength={200}
            required
            onInput={(event) => setLabel(event.currentTarget.value)}
          />
        </label>
      )}
      <label class="inline-field">
        Minutes
        <input
          type="number"
          min="0"
          max="360"
          step="0.5"
          inputMode="decimal"
          class="minutes"
          value={minutes}
          onInput={(event) => setMinutes(event.currentTarget.value)}
        />
      </label>
      <button type="submit">Start phase</button>
      {running && (
        <button
          type="button"
          class="quiet"
          onClick={() => void run("Leave phases", "room:phase", { phase: null })}
        >
          End phase
        </button>
      )}
    </form>
  );
}

/** "End session" with a confirmation dialog (a modal <dialog>: focus stays in it, Escape cancels). */
function EndSession() {
  const run = useCommand();
  const { ui } = useRoom();
  const refusal = ui.refusal.value;
  const room = useRoomState()!;
  const dialog = useRef<HTMLDialogElement>(null);
  const openPrompts = room.prompts.filter((prompt) => prompt.state === "open").length;
  return (
    <>
      <button type="button" class="danger" onClick={() => dialog.current?.showModal()}>
        End session…
      </button>
      <dialog ref={dialog} class="confirm-dialog" aria-labelledby="end-title" aria-describedby="end-text">
        <h2 id="end-title">End the session?</h2>
        <p id="end-text">
          The room becomes read-only for everyone
          {openPrompts > 0
            ? ` and ${openPrompts === 1 ? "the open question closes" : `${openPrompts} open questions close`}`
            : ""}
          . This cannot be undone.
        </p>
        {refusal?.action === END_ACTION && (
          <p class="field-error" role="alert">
            {describeRefusal(refusal.action, refusal.error)}
          </p>
        )}
        <div class="form-end">
          <button
            type="button"
            class="danger"
            onClick={async () => {
              const result = await run(END_ACTION, "seminar:end", {});
              if (result.ok) dialog.current?.close();
            }}
          >
            End the session
          </button>
          <button type="button" class="quiet" autofocus onClick={() => dialog.current?.close()}>
            Keep it running
          </button>
        </div>
      </dialog>
    </>
  );
}
