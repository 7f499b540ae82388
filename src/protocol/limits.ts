/** Size and rate limits shared by server and client (the client uses them to validate early). */
export const LIMITS = {
  /** Socket.IO messages larger than this are refused by the transport (bytes). */
  maxSocketMessageBytes: 64 * 1024,
  /** JSON bodies larger than this are refused (bytes); essays are the largest bodies. */
  maxHttpBodyBytes: 1024 * 1024,
  displayName: { min: 1, max: 40 },
  email: { max: 254 },
  password: { min: 10, max: 256 },
  seminarTitle: { min: 1, max: 200 },
  essaySourceChars: 200_000,
  /**
   * Seminar creations and essay replacements (each runs the essay importer) one moderator account
   * may make per window, together.
   */
  essayImportsPerAccount: { points: 60, windowSeconds: 600 },
  promptsPerSeminar: 50,
  promptQuestion: { min: 1, max: 500 },
  promptOptions: { min: 2, max: 12 },
  promptOptionLabel: { min: 1, max: 200 },
  scalePoints: { min: 2, max: 11 },
  annotationBody: { min: 1, max: 4_000 },
  annotationTags: { max: 8, chars: 32 },
  quoteContextChars: 64,
  moderationReason: { max: 500 },
  /** The longest mute with a duration (seconds); without one a mute lasts until unmuted. */
  muteMaxSeconds: 24 * 3600,
  /** The longest slow-mode interval between two posts of one participant (seconds). */
  slowModeMaxSeconds: 600,
  phaseLabel: { max: 200 },
  /** The longest phase deadline (seconds from its start). */
  phaseMaxSeconds: 6 * 3600,
  /** Moderators' snapshots carry the newest this many moderation log entries. */
  moderationLogInSnapshot: 100,
  /** Events a socket may send per second on average, and in a burst. */
  socketEventsPerSecond: 20,
  socketEventsBurst: 40,
  /** Events one member may send per second over all their sockets, and in a burst. */
  memberEventsPerSecond: 30,
  memberEventsBurst: 60,
  /**
   * Commands refused as rate_limited that one socket may still send within the refusals window;
   * past that it is closed (connection:closing "flooding"). A client that honours retryAfterMs is
   * refused a few times at most.
   */
  socketRefusalsBurst: 200,
  /** The window of socketRefusalsBurst (seconds). */
  socketRefusalsWindowSeconds: 10,
  /** Open sockets one member (guest or moderator) may hold in one seminar. */
  socketsPerMember: 5,
  /** Full snapshots (room:sync without `since`) one member may ask for per minute. */
  snapshotsPerMinute: 30,
  /** Catch-up larger than this many events is answered with a fresh snapshot instead. */
  maxCatchUpEvents: 2_000,
  /** Presence focus changes are coalesced and broadcast at most this often per room (ms). */
  presenceFlushMs: 500,
  /**
   * A large room's presence goes out less often: at most once per this many ms per socket of the
   * node in the room (5,000 sockets: every second), never less often than presenceFlushMaxMs
   * (audienceIntervalMs).
   */
  presenceFlushPerSocketMs: 0.2,
  presenceFlushMaxMs: 2_000,
  /**
   * Participants and observers see who is present by name in a room of at most this many present,
   * in a larger one the moderators by name and the rest as counts (the server's default;
   * PRESENCE_LISTED_MAX sets it).
   */
  presenceListedMax: 100,
  /**
   * member:joined events are held up to this long (ms) and sent as one room:events message, so a
   * storm of N joins does not cost N² messages; any other event flushes them first, in order.
   */
  membershipBatchMs: 100,
  /**
   * After a session ends, participants' and observers' connections stay open this long (ms) to
   * receive the final state, then are closed with `connection:closing { reason: "session_ended" }`.
   */
  endedRoomGraceMs: 5 * 60 * 1000,
  /** Tally updates are coalesced per prompt on this interval (ms). */
  tallyFlushMs: 150,
  /**
   * While a prompt's ballots are still being written, a large room's running tally goes out at
   * most once per this many ms per socket of the node in the room (2,500 sockets: every 500 ms;
   * 5,000: every 1 s), never less often than tallyBurstMaxMs (audienceIntervalMs). At 0.1 a hall of
   * 5,000 got a running tally every 500 ms, and each one's 5,000 writes were taken from the
   * ballots: its final tally p99 was 1,163 ms on average over eight runs, 1,033 ms at 0.2
   * (docs/benchmarks.md, 2026-12-03 10:12).
   */
  tallyBurstPerSocketMs: 0.2,
  tallyBurstMaxMs: 1_000,
  /** Transcript downloads one server process streams at once; more are answered `rate_limited`. */
  concurrentTranscripts: 4,
  /**
   * Rows a transcript reads from the database per query while it streams (a page is rendered and
   * sent in chunks of at most 128 KB, so this bounds work per query, not bytes in flight).
   */
  transcriptPageSize: 1_000,
} as const;

/**
 * How often a message coalesced on `baseMs` goes to a room of `sockets` sockets: a message to a
 * room is one socket write per socket whatever it carries, so a room of thousands gets it every
 * `perSocketMs` per socket instead, never less often than every `maxMs`.
 */
export function audienceIntervalMs(
  baseMs: number,
  sockets: number,
  perSocketMs: number,
  maxMs: number,
): number {
  return Math.min(maxMs, Math.max(baseMs, sockets * perSocketMs));
}

/** Join codes: short, case-insensitive, from an alphabet without 0/O/1/I/L. */
export const JOIN_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
export const JOIN_CODE_LENGTH = 6;
