"""A Stepstone participant written from docs/protocol.md alone, on Debian's python3-socketio.

Usage: /usr/bin/python3 tests/interop/participant.py <server url> <join code>

It joins by code over HTTP, opens the room over Socket.IO (websocket transport), loads a snapshot
with room:sync, highlights a span of a paragraph, votes on the open prompt and waits until it has
seen its own annotation come back as a room event, a tally counting its ballot, and a room event
caused by someone else. It prints one JSON line with what it saw and exits 0 only if every handler
ran without an exception and everything arrived before the deadline.
"""

import importlib.metadata
import json
import sys
import threading
import time
import traceback
import uuid

import requests
import socketio

DEADLINE_SECONDS = 20.0
POLL_SECONDS = 0.02


class Participant:
    """The room as this client holds it, fed by one-argument handlers.

    python-socketio 5.7 runs every incoming message in a thread of its own, so handlers may run
    concurrently and out of order: state is guarded by a lock, and room events are applied in seq
    order from a buffer, as docs/protocol.md asks of any client.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.snapshot: dict | None = None
        self.seq = 0  # last seq applied
        # Received entries not yet applicable, by the first seq they cover (an omitted range,
        # "room:omitted", covers data.from to seq: events that are not for this participant).
        self.ahead: dict[int, dict] = {}
        self.broadcast_seqs: list[int] = []  # every seq received by broadcast, in arrival order
        self.applied: list[dict] = []  # entries applied after the snapshot, in order
        self.applied_seqs: list[int] = []  # every seq they covered, in order
        self.catch_ups = 0  # room:sync { since } calls made to fill a gap
        self.tallies: dict[str, dict] = {}  # promptId -> the newest TallyView
        self.tally_updates: list[dict] = []
        self.presence: dict | None = None  # the newest presence:update (by presenceSummary.at)
        self.presence_updates = 0
        self.sio = socketio.Client(reconnection=False, handle_sigint=False)
        for event, handler in (
            ("room:event", self.on_room_event),
            ("room:events", self.on_room_events),
            ("tally:update", self.on_tally),
            ("presence:update", self.on_presence),
            ("connect_error", self.on_connect_error),
        ):
            self.sio.on(event, self.guarded(event, handler))

    def guarded(self, name, handler):
        """Wraps a one-argument handler so that an exception is recorded instead of lost in its thread."""

        def run(payload):
            try:
                handler(payload)
            except Exception:
                self.record_error(f"{name} handler: {traceback.format_exc()}")

        return run

    def record_error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    # Handlers: each takes exactly one argument, the payload the protocol documents.

    def on_room_event(self, event: dict) -> None:
        self.receive([event])

    def on_room_events(self, events: list) -> None:
        self.receive(events)

    def on_tally(self, tally: dict) -> None:
        with self.lock:
            self.tally_updates.append(tally)
            self.apply_tally(tally)

    def on_presence(self, update: dict) -> None:
        # Presence whole (participants): keep the newest by presenceSummary.at.
        if not isinstance(update["presence"], list):
            raise TypeError("presence:update.presence is not a list")
        summary = update["presenceSummary"]
        for key, kind in (("at", int), ("present", int), ("reading", list), ("complete", bool)):
            if not isinstance(summary[key], kind):
                raise TypeError(f"presence:update.presenceSummary.{key} is not {kind.__name__}")
        with self.lock:
            self.presence_updates += 1
            if self.presence is None or summary["at"] >= self.presence["presenceSummary"]["at"]:
                self.presence = update

    def present_ids(self) -> list[str]:
        with self.lock:
            return [entry["memberId"] for entry in (self.presence or {"presence": []})["presence"]]

    def on_connect_error(self, data) -> None:
        self.record_error(f"connect_error: {data!r}")

    # The room stream.

    def receive(self, events: list) -> None:
        """Buffers broadcast events and applies every one that is next in seq order."""
        gap = False
        with self.lock:
            for event in events:
                self.broadcast_seqs.extend(range(first_seq(event), event["seq"] + 1))
                self.ahead[first_seq(event)] = event
            if self.snapshot is not None:
                self.drain()
                gap = bool(self.ahead)
        if gap:
            self.catch_up()

    def drain(self) -> None:
        """Drops what the snapshot already holds and applies the entries that follow it (lock held).
        An omitted range may begin before what is held (a snapshot fell inside it)."""
        while True:
            for first in [first for first, event in self.ahead.items() if event["seq"] <= self.seq]:
                del self.ahead[first]
            following = [first for first in self.ahead if first <= self.seq + 1]
            if not following:
                return
            event = self.ahead.pop(following[0])
            self.applied.append(event)
            self.applied_seqs.extend(range(self.seq + 1, event["seq"] + 1))
            self.seq = event["seq"]

    def apply_tally(self, tally: dict) -> None:
        current = self.tallies.get(tally["promptId"])
        if current is None or tally["version"] > current["version"]:
            self.tallies[tally["promptId"]] = tally

    def counted(self, prompt_id: str, option_id: str) -> int:
        """How many ballots for `option_id` the newest tally of `prompt_id` held counts."""
        with self.lock:
            return self.tallies.get(prompt_id, {}).get("counts", {}).get(option_id, 0)

    def sync(self, since: int | None = None) -> dict:
        """Calls room:sync (again after the wait a busy server names); returns the ack's data or
        raises with the error the server gave."""
        payload = {} if since is None else {"since": since}
        while True:
            answer = self.sio.call("room:sync", payload, timeout=10)
            if answer["ok"]:
                return answer["data"]
            wait = busy_wait(answer["error"])
            if wait is None:
                raise RuntimeError(f"room:sync refused: {answer['error']}")
            time.sleep(wait)

    def load(self) -> None:
        view = self.sync()
        if view["mode"] != "snapshot":
            raise RuntimeError(f"room:sync {{}} answered mode {view['mode']}")
        with self.lock:
            self.snapshot = view["snapshot"]
            self.seq = self.snapshot["seq"]
            for tally in self.snapshot["tallies"]:
                self.apply_tally(tally)
            self.drain()

    def catch_up(self) -> None:
        """Fills a gap with room:sync { since } (only if events ahead are still waiting)."""
        with self.lock:
            if not self.ahead:
                return
            since = self.seq
            self.catch_ups += 1
        view = self.sync(since)
        with self.lock:
            if view["mode"] == "events":
                for event in view["events"]:
                    self.ahead.setdefault(first_seq(event), event)
                for tally in view["tallies"]:
                    self.apply_tally(tally)
                self.drain()
            else:
                raise RuntimeError("catch-up answered with a snapshot; this client does not reload")

    def command(self, name: str, payload: dict) -> dict:
        """Sends a command and returns its ack data, or raises with the error the server gave."""
        answer = self.sio.call(name, payload, timeout=10)
        if not answer["ok"]:
            raise RuntimeError(f"{name} refused: {answer['error']}")
        return answer["data"]


def first_seq(event: dict) -> int:
    """The first seq a stream entry covers: data.from for an omitted range, else its seq."""
    return event["data"]["from"] if event["type"] == "room:omitted" else event["seq"]


def busy_wait(error: dict) -> float | None:
    """Seconds to wait before sending again when the server was busy (`unavailable` with
    details.retryAfterMs: nothing was done), else None."""
    details = error.get("details") or {}
    if error.get("code") != "unavailable" or not isinstance(details.get("retryAfterMs"), (int, float)):
        return None
    return details["retryAfterMs"] / 1000


def join(url: str, code: str) -> dict:
    while True:
        response = requests.post(
            f"{url}/api/seminars/join",
            json={"code": code, "displayName": "Python participant"},
            timeout=10,
        )
        body = response.json()
        if response.status_code == 201 and body["ok"]:
            return body["data"]
        wait = None if body.get("ok", True) else busy_wait(body["error"])
        if wait is None:
            raise RuntimeError(f"join refused ({response.status_code}): {body}")
        time.sleep(wait)


def choose_span(paragraphs: list) -> tuple[dict, dict]:
    """A paragraph and a selector on it, preferring text with characters outside the BMP.

    Python strings index by code point, which is what the protocol's offsets count.
    """
    candidates = [p for p in paragraphs if p["kind"] == "paragraph" and len(p["text"]) >= 12]
    astral = [p for p in candidates if any(ord(c) > 0xFFFF for c in p["text"])]
    paragraph = (astral or candidates)[0]
    text = paragraph["text"]
    first_astral = next((i for i, c in enumerate(text) if ord(c) > 0xFFFF), 0)
    start = min(first_astral + 1, len(text) - 10)
    end = min(start + 20, len(text))
    selector = {
        "start": start,
        "end": end,
        "exact": text[start:end],
        "prefix": text[max(0, start - 8) : start],
        "suffix": text[end : end + 8],
    }
    return paragraph, selector


def wait_until(condition, what: str, deadline: float) -> None:
    """Polls `condition` until it holds; raises naming `what` when the deadline passes."""
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(POLL_SECONDS)


def main(url: str, code: str) -> int:
    deadline = time.monotonic() + DEADLINE_SECONDS
    client = Participant(url)
    # Exceptions raised where python-socketio calls a handler (for instance a call with more
    # arguments than the handler takes) end the message's thread; record those too.
    threading.excepthook = lambda hook: client.record_error(
        f"thread {hook.thread.name if hook.thread else '?'}: "
        + "".join(traceback.format_exception(hook.exc_type, hook.exc_value, hook.exc_traceback))
    )
    report: dict = {"pythonSocketio": importlib.metadata.version("python-socketio")}
    failure = None
    try:
        joined = join(url, code)
        member_id = joined["member"]["id"]
        report["memberId"] = member_id
        client.sio.connect(url, auth={"token": joined["token"]}, transports=["websocket"], wait_timeout=10)
        client.load()
        snapshot = client.snapshot
        report["snapshotSeq"] = snapshot["seq"]

        paragraph, selector = choose_span(snapshot["essay"]["paragraphs"])
        annotation = client.command(
            "annotation:create",
            {
                "paragraphId": paragraph["id"],
                "selector": selector,
                "body": "Written by a Python client from docs/protocol.md.",
                "clientId": str(uuid.uuid4()),
            },
        )
        report["annotation"] = {
            "id": annotation["id"],
            "paragraphId": paragraph["id"],
            "selector": selector,
        }

        prompt = next(p for p in snapshot["prompts"] if p["state"] == "open")
        option_id = prompt["options"][0]["id"]
        ballot = client.command(
            "prompt:vote",
            {"promptId": prompt["id"], "optionIds": [option_id], "clientBallotId": str(uuid.uuid4())},
        )
        report["ballot"] = ballot

        def applied(predicate) -> bool:
            with client.lock:
                return any(predicate(event) for event in client.applied)

        wait_until(
            lambda: applied(
                lambda e: e["type"] == "annotation:created" and e["data"]["annotation"]["id"] == annotation["id"]
            ),
            "my annotation:created",
            deadline,
        )
        wait_until(
            lambda: client.counted(prompt["id"], option_id) >= 1,
            "a tally counting my ballot",
            deadline,
        )
        wait_until(
            lambda: applied(lambda e: e["type"] == "annotation:created" and e["actor"] != member_id),
            "an annotation:created by someone else",
            deadline,
        )
        wait_until(lambda: member_id in client.present_ids(), "a presence:update naming me", deadline)
    except Exception:
        failure = traceback.format_exc()
    finally:
        if client.sio.connected:
            client.sio.disconnect()

    with client.lock:
        report.update(
            {
                "broadcastSeqs": client.broadcast_seqs,
                "appliedSeqs": client.applied_seqs,
                "events": [
                    {"seq": e["seq"], "type": e["type"], "actor": e["actor"]} for e in client.applied
                ],
                "catchUps": client.catch_ups,
                "tallyUpdates": len(client.tally_updates),
                "tallies": list(client.tallies.values()),
                "presenceUpdates": client.presence_updates,
                "presence": client.presence,
                "errors": client.errors,
                "failure": failure,
            }
        )
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0 if failure is None and not report["errors"] else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: participant.py <server url> <join code>", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
