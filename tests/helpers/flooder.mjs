// One Socket.IO client, in a process of its own, sending a command as fast as its socket takes
// them (up to FLOOD_IN_FLIGHT unanswered) until its stdin closes, and connecting again at once
// whenever the server closes it (as an attacker would). Then it prints its counts as one JSON line.
// Used by tests/security/floods.test.ts, so that the flood's client-side work does not run on the
// event loop of the server under test. It prints "progress <refusals>" every 200 ms (and, with
// FLOOD_DEBUG set, its counts on stderr every second).
import { io } from "socket.io-client";

const {
  FLOOD_URL,
  FLOOD_TOKEN,
  FLOOD_PARAGRAPH,
  FLOOD_IN_FLIGHT = "200",
  FLOOD_EVENT = "annotation:create",
} = process.env;
const limit = Number(FLOOD_IN_FLIGHT);
const counts = {
  sent: 0,
  ok: 0,
  rate_limited: 0,
  otherCodes: {},
  connects: 0,
  closings: {},
  connectErrors: {},
};
let flooding = true;
let current;

const bump = (map, key) => {
  map[key] = (map[key] ?? 0) + 1;
};

function payload(n) {
  return FLOOD_EVENT === "annotation:create"
    ? { paragraphId: FLOOD_PARAGRAPH, body: `flood ${n}`, clientId: `flood-${n}` }
    : { paragraphId: null };
}

function fill(state) {
  while (flooding && state.alive && state.inFlight < limit) {
    state.inFlight++;
    const n = ++counts.sent;
    state.socket
      .timeout(60_000)
      .emitWithAck(FLOOD_EVENT, payload(n))
      .then((ack) => {
        if (ack.ok) counts.ok++;
        else if (ack.error.code === "rate_limited") counts.rate_limited++;
        else bump(counts.otherCodes, ack.error.code);
      })
      // An ack lost with a closed connection is no answer.
      .catch(() => undefined)
      .finally(() => {
        state.inFlight--;
        if (flooding && state.alive) setImmediate(() => fill(state));
        else if (!flooding && state.inFlight === 0) finish();
      });
  }
}

function open() {
  const socket = io(FLOOD_URL, {
    auth: { token: FLOOD_TOKEN },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
  });
  const state = { socket, inFlight: 0, alive: false };
  current = state;
  socket.on("connect", () => {
    counts.connects++;
    state.alive = true;
    fill(state);
  });
  socket.on("connection:closing", (closing) => bump(counts.closings, closing.reason));
  socket.on("disconnect", () => {
    state.alive = false;
    if (flooding) open();
  });
  socket.on("connect_error", (error) => {
    bump(counts.connectErrors, error.data?.code ?? error.message);
    if (flooding) setTimeout(open, 20);
  });
}

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  current?.socket.close();
  process.exit(0);
}

setInterval(() => process.stdout.write(`progress ${counts.rate_limited}\n`), 200).unref();
if (process.env.FLOOD_DEBUG)
  setInterval(() => process.stderr.write(`${JSON.stringify(counts)}\n`), 1000).unref();
process.stdin.on("end", () => {
  flooding = false;
  if (!current?.alive || current.inFlight === 0) finish();
  // Acks still out after 10 s are not waited for.
  setTimeout(finish, 10_000).unref();
});
process.stdin.resume();
open();
