/**
 * The join page: a code (prefilled from a join link) and a display name. A guest who already
 * joined and whose token is still valid can continue as the same member.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { LIMITS } from "../../../../src/protocol/limits.ts";
import type { ErrorBody } from "../../../../src/protocol/result.ts";
import { JoinCode } from "../../../../src/protocol/schemas.ts";
import { joinSeminar } from "../../connection/api.ts";
import { isUsable, listSessions, type StoredSession, saveJoin } from "../../connection/session.ts";
import { follow, navigate } from "../../router.ts";
import { fieldErrors } from "../../ui/form-errors.ts";

/** What to tell the guest for each refusal of a join. */
function describeJoinError(error: ErrorBody): string {
  switch (error.code) {
    case "not_found":
      return "No seminar has this code. Check the code and try again.";
    case "room_closed":
      return error.message || "This seminar is not open for joining.";
    case "rate_limited":
      return "Too many attempts from here. Wait a moment and try again.";
    case "validation_failed":
      return "Please check the fields marked below.";
    case "unavailable":
      return error.message || "The server is unavailable. Try again in a moment.";
    default:
      return "Something went wrong on our side. Try again.";
  }
}

/** The join form. */
export function JoinPage(props: { code: string; notice?: string }) {
  const [code, setCode] = useState(props.code);
  const [name, setName] = useState("");
  const [observer, setObserver] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorBody | undefined>();
  const nameInput = useRef<HTMLInputElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  const normalized = JoinCode.safeParse(props.code).data;
  const sessions = listSessions().filter(isUsable);
  const current = sessions.find((session) => session.joinCode === normalized);
  const fields = fieldErrors(error);

  useEffect(() => {
    document.title = "Join a seminar · Stepstone";
    (props.code ? nameInput : codeInput).current?.focus();
  }, [props.code]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(undefined);
    const result = await joinSeminar({ code, displayName: name, asObserver: observer });
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    const session = saveJoin(result.data, JoinCode.safeParse(code).data ?? code);
    navigate({ page: "room", seminarId: session.seminarId });
  };

  const resume = (session: StoredSession) => navigate({ page: "room", seminarId: session.seminarId });

  return (
    <main class="join" id="main">
      <div class="join-card">
        <p class="brand" aria-hidden="true">
          Stepstone
        </p>
        <h1>Join a reading seminar</h1>
        <p class="lede">Read the essay together, mark passages, reply and vote.</p>
        {props.notice && (
          <p class="notice" role="status">
            {props.notice}
          </p>
        )}
        {current && (
          <section class="resume" aria-labelledby="resume-title">
            <h2 id="resume-title">Welcome back</h2>
            <button type="button" class="primary" onClick={() => resume(current)}>
              Continue as {current.displayName}
            </button>
          </section>
        )}
        <form onSubmit={submit} noValidate aria-describedby={error ? "join-error" : undefined}>
          <div class="field">
            <label for="join-code">Join code</label>
            <input
              id="join-code"
              ref={codeInput}
              name="code"
              value={code}
              onInput={(event) => setCode(event.currentTarget.value)}
              autocomplete="off"
              autocapitalize="characters"
              spellcheck={false}
              maxLength={32}
              aria-invalid={fields.code ? true : undefined}
              aria-describedby={fields.code ? "join-code-error" : "join-code-hint"}
              required
            />
            {fields.code ? (
              <p class="field-error" id="join-code-error">
                The code {fields.code}.
              </p>
            ) : (
              <p class="hint" id="join-code-hint">
                Six letters and digits, from your moderator or the join link.
              </p>
            )}
          </div>
          <div class="field">
            <label for="join-name">Your name</label>
            <input
              id="join-name"
              ref={nameInput}
              name="displayName"
              value={name}
              onInput={(event) => setName(event.currentTarget.value)}
              autocomplete="nickname"
              maxLength={LIMITS.displayName.max * 2}
              aria-invalid={fields.displayName ? true : undefined}
              aria-describedby={fields.displayName ? "join-name-error" : "join-name-hint"}
              required
            />
            {fields.displayName ? (
              <p class="field-error" id="join-name-error">
                The name {fields.displayName}.
              </p>
            ) : (
              <p class="hint" id="join-name-hint">
                Shown to the room next to what you write.
              </p>
            )}
          </div>
          <div class="field checkbox">
            <input
              id="join-observer"
              type="checkbox"
              checked={observer}
              onChange={(event) => setObserver(event.currentTarget.checked)}
            />
            <label for="join-observer">Only read along (observer: no comments or votes)</label>
          </div>
          {error && (
            <p class="form-error" id="join-error" role="alert">
              {describeJoinError(error)}
            </p>
          )}
          <button type="submit" class="primary" disabled={busy}>
            {busy ? "Joining…" : "Join"}
          </button>
        </form>
        {sessions.filter((session) => session !== current).length > 0 && (
          <section class="resume" aria-labelledby="others-title">
            <h2 id="others-title">Your other seminars</h2>
            <ul>
              {sessions
                .filter((session) => session !== current)
                .map((session) => (
                  <li key={session.seminarId}>
                    <button type="button" class="link" onClick={() => resume(session)}>
                      {session.seminarTitle} — as {session.displayName}
                    </button>
                  </li>
                ))}
            </ul>
          </section>
        )}
        <p class="switch">
          <a href="/signin" onClick={follow({ page: "signin", signup: false })}>
            Moderating? Sign in
          </a>
        </p>
      </div>
    </main>
  );
}
