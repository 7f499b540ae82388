/**
 * The essay every bench seminar reads: about 5 KB of Markdown in a dozen blocks, the size of a
 * short seminar reading, so snapshots weigh what they weigh in a real session.
 */

/** The bench essay (Markdown). Written for the bench. */
export const BENCH_ESSAY = [
  "# The Room Reads Together",
  "",
  "By the Stepstone bench",
  "",
  "## Why read in company",
  "",
  "A text read alone is a conversation with one voice missing. When a room reads the same page at the same time, every margin note becomes an answer somebody else can see, and the page stops being a private object and becomes a meeting place.",
  "",
  "The oldest seminars worked this way: a short passage, a long silence, and then a question that nobody could have asked alone. What changes with a shared screen is only the speed at which the question travels.",
  "",
  "## What a highlight is for",
  "",
  "A highlight says: look here. It is the smallest possible argument, a finger on a line. Attached to a comment it becomes a claim; attached to a reply it becomes a dispute; attached to a vote it becomes a measurement of where the room stands.",
  "",
  "Readers mark different things for different reasons. Some mark what they agree with, some what puzzles them, some what they intend to quote. A good reading tool does not decide between these; it keeps the mark and lets the room decide what it meant.",
  "",
  "## Disagreement as a feature",
  "",
  "A room that agrees about everything has not read closely. The point of a question such as whether a model should be a national team is not the answer but the reasons, and the reasons only appear when people who disagree can see each other's notes in the same place.",
  "",
  "Votes make disagreement visible at a glance. They are crude, and that is their strength: a tally that moves while people argue tells the moderator when to stop the discussion and when to let it run.",
  "",
  "## What the record keeps",
  "",
  "At the end of a session the room leaves, but the record stays: every note, every reply, every vote in the order it happened. A transcript is not a summary; it is the session itself, laid flat, so that somebody who was not there can follow the argument as it unfolded.",
  "",
  "Records are only useful if they are complete. A note that was acknowledged and then lost is worse than a note never written, because everybody remembers writing it and nobody can find it.",
  "",
  "## Speed and patience",
  "",
  "People forgive a slow page but not a lost thought. Still, speed matters in a room: a vote that appears a few seconds late is a vote the moderator did not see, and a comment that arrives after the discussion moved on is a comment nobody answers.",
  "",
  "The best tools disappear. Nobody in a good seminar talks about the table they sit at.",
].join("\n");

/**
 * The essay's blocks below the title and byline, as the importer presents them (headings and
 * paragraphs), for the bare relay's snapshots.
 */
export function essayBlocks(): { kind: "heading" | "paragraph"; text: string }[] {
  return BENCH_ESSAY.split(/\n\s*\n/)
    .slice(2)
    .map((block) => ({
      kind: block.startsWith("#") ? ("heading" as const) : ("paragraph" as const),
      text: block.replace(/^#+\s*/, "").trim(),
    }));
}

/** A comment of about `chars` characters (before the bench marker is prepended). */
export function commentText(chars: number): string {
  const words =
    "this passage makes the point better than the summary does but it skips the strongest objection which is that a room can agree for the wrong reasons".split(
      " ",
    );
  let text = "";
  for (let index = 0; text.length < chars; index++) text += `${words[index % words.length]} `;
  return text.trim();
}
