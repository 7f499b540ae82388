/**
 * Tells screen-reader users how the votes stand, politely (aria-live="polite") and at most once
 * every few seconds per question, so a burst of ballots is one sentence rather than fifty.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { useRoomState } from "../seminars/room-ui.ts";
import { describeTally } from "./tally.ts";

/** The quietest interval between two announcements of the same prompt (ms). */
const INTERVAL_MS = 5_000;

/** A visually hidden live region with the latest tally sentence. */
export function TallyAnnouncer() {
  const room = useRoomState()!;
  const [message, setMessage] = useState("");
  const [tick, setTick] = useState(0);
  const announced = useRef(new Map<string, { version: number; at: number }>());
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const versions = room.tallies.map((tally) => `${tally.promptId}:${tally.version}`).join(",");
  // `versions` stands for the tallies; `tick` runs it again once a held-back announcement is due.
  useEffect(() => {
    const now = Date.now();
    let wait = Number.POSITIVE_INFINITY;
    for (const tally of room.tallies) {
      const prompt = room.prompts.find((item) => item.id === tally.promptId);
      if (!prompt || prompt.state === "draft") continue;
      const last = announced.current.get(tally.promptId);
      // The first tally of the room (a snapshot) is not news.
      if (!last) {
        announced.current.set(tally.promptId, { version: tally.version, at: 0 });
        continue;
      }
      if (last.version >= tally.version) continue;
      const due = last.at + INTERVAL_MS - now;
      if (due > 0) {
        wait = Math.min(wait, due);
        continue;
      }
      announced.current.set(tally.promptId, { version: tally.version, at: now });
      setMessage(describeTally(prompt, tally));
    }
    clearTimeout(timer.current);
    // A later ballot arrived inside the interval: announce it once the interval has passed.
    if (Number.isFinite(wait)) timer.current = setTimeout(() => setTick((value) => value + 1), wait);
  }, [versions, tick]);

  useEffect(() => () => clearTimeout(timer.current), []);

  return (
    <div class="sr-only" aria-live="polite" aria-atomic="true" data-testid="tally-announcer">
      {message}
    </div>
  );
}
