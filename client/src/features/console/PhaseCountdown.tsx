/**
 * The current phase and the time left until its deadline. The deadline is the server's (set when
 * the phase started); the server also announces its end (room:phase_ended), which is what turns
 * the countdown into "time is up".
 */
import { useEffect, useState } from "preact/hooks";
import type { PhaseView } from "../../../../src/protocol/views.ts";
import { timeOf } from "../../ui/text.ts";
import { formatRemaining } from "./countdown.ts";

/** Re-renders every second while `active`, answering the current time. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/** The phase's label and countdown (nothing without a phase). */
export function PhaseCountdown(props: { phase: PhaseView | null; large?: boolean }) {
  const { phase } = props;
  const ticking = Boolean(phase?.deadline && !phase.endedAt);
  const now = useNow(ticking);
  if (!phase) return null;
  const ended = phase.endedAt !== null;
  return (
    <p class={`phase${props.large ? " large" : ""}${ended ? " ended" : ""}`} data-phase={phase.kind}>
      <span class="phase-label">{phase.label}</span>
      {phase.deadline && !ended && (
        <>
          <span class="countdown" role="timer" data-deadline={phase.deadline}>
            {formatRemaining(Date.parse(phase.deadline) - now)}
          </span>
          <span class="deadline"> until {timeOf(phase.deadline)}</span>
        </>
      )}
      {ended && <span class="countdown done">Time is up</span>}
    </p>
  );
}
