/** Small inline icons (decorative: always aria-hidden; the text beside them says what they mean). */

/** A speech bubble. */
export function CommentIcon() {
  return (
    <svg class="icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <path
        d="M2.5 3.5h11v7h-6l-3 2.5v-2.5h-2z"
        fill="none"
        stroke="currentColor"
        stroke-width="1.4"
        stroke-linejoin="round"
      />
    </svg>
  );
}

/** A person (presence). */
export function PersonIcon() {
  return (
    <svg class="icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <circle cx="8" cy="5.5" r="2.6" fill="currentColor" />
      <path d="M3 14c.4-3 2.4-4.6 5-4.6s4.6 1.6 5 4.6z" fill="currentColor" />
    </svg>
  );
}

/** A plus sign (start a comment). */
export function PlusIcon() {
  return (
    <svg class="icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <path d="M8 3.5v9M3.5 8h9" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" />
    </svg>
  );
}

/** A spotlight's beam (point the room at a paragraph). */
export function SpotlightIcon() {
  return (
    <svg class="icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <circle cx="8" cy="8" r="2.4" fill="currentColor" />
      <path
        d="M8 1.5v2.2M8 12.3v2.2M1.5 8h2.2M12.3 8h2.2M3.4 3.4l1.5 1.5M11.1 11.1l1.5 1.5M3.4 12.6l1.5-1.5M11.1 4.9l1.5-1.5"
        stroke="currentColor"
        stroke-width="1.4"
        stroke-linecap="round"
      />
    </svg>
  );
}

/** A raised hand (the speaking queue). */
export function HandIcon() {
  return (
    <svg class="icon hand-icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <path
        d="M5 8.5V3.6a1 1 0 0 1 2 0V7.5M7 7V2.6a1 1 0 0 1 2 0V7M9 7V3.4a1 1 0 0 1 2 0V8.2M11 7.2a1 1 0 0 1 2 0v2.6c0 2.6-1.8 4.7-4.4 4.7-1.6 0-2.6-.7-3.5-1.9L3.2 10a1 1 0 0 1 1.6-1.2L5 9"
        fill="none"
        stroke="currentColor"
        stroke-width="1.3"
        stroke-linecap="round"
        stroke-linejoin="round"
      />
    </svg>
  );
}
