/**
 * A tally as horizontal bars. The bars grow and shrink smoothly (a CSS transition on their
 * scale, none when the reader prefers reduced motion); counts and percentages are written out.
 */
import type { PromptView, TallyView } from "../../../../src/protocol/views.ts";
import { tallyRows } from "./tally.ts";

/** The bars of one prompt's tally; `mine` marks the viewer's own choice. */
export function TallyBars(props: { prompt: PromptView; tally: TallyView; mine: readonly string[] }) {
  const rows = tallyRows(props.prompt, props.tally);
  return (
    <div class="tally">
      <ul class="bars" aria-label="Results">
        {rows.map((row) => (
          <li key={row.optionId} class={`bar-row${props.mine.includes(row.optionId) ? " mine" : ""}`}>
            <div class="bar-label">
              <span class="option-label">{row.label}</span>
              <span class="bar-figures" data-option={row.optionId}>
                {row.count} · {row.percent}%
              </span>
            </div>
            <div class="bar" aria-hidden="true">
              <div class="bar-fill" style={{ transform: `scaleX(${row.percent / 100})` }} />
            </div>
          </li>
        ))}
      </ul>
      <p class="ballots" data-ballots={props.tally.ballots}>
        {props.tally.ballots} {props.tally.ballots === 1 ? "vote" : "votes"}
      </p>
    </div>
  );
}
