/** Tally arithmetic and wording shared by the bars and the screen-reader announcements. Pure. */
import type { PromptView, TallyView } from "../../../../src/protocol/views.ts";

/** One option's row of a tally. */
export interface TallyRow {
  optionId: string;
  label: string;
  count: number;
  /** Share of ballots that picked the option, 0..100 (a ballot may pick several options). */
  percent: number;
}

/** The rows of a tally, in the prompt's option order. */
export function tallyRows(prompt: PromptView, tally: TallyView): TallyRow[] {
  return prompt.options.map((option) => {
    const count = tally.counts[option.id] ?? 0;
    return {
      optionId: option.id,
      label: option.label,
      count,
      percent: tally.ballots > 0 ? Math.round((count / tally.ballots) * 100) : 0,
    };
  });
}

/** "Should …? Yes: 3 votes, 60 percent. No: 2 votes, 40 percent. 5 ballots." */
export function describeTally(prompt: PromptView, tally: TallyView): string {
  const rows = tallyRows(prompt, tally)
    .map((row) => `${row.label}: ${row.count} ${row.count === 1 ? "vote" : "votes"}, ${row.percent} percent.`)
    .join(" ");
  return `${prompt.question} ${rows} ${tally.ballots} ${tally.ballots === 1 ? "ballot" : "ballots"} in total.`;
}
