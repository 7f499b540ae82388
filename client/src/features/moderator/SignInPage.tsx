/**
import "./moderator.css";
 * Moderator sign-in and sign-up (`/signin`, `/signup`): e-mail and password, and a display name
 * for a new account. The input is checked with the server's own schemas before it is sent; the
 * server's refusal is shown on the form, field by field where it names fields.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { LIMITS } from "../../../../src/protocol/limits.ts";
import type { ErrorBody } from "../../../../src/protocol/result.ts";
import { currentAccount, signIn, signUp } from "../../connection/account.ts";
import { follow, navigate } from "../../router.ts";
import { Field } from "../../ui/Field.tsx";
import { describeError, fieldErrors } from "../../ui/form-errors.ts";

export function SignInPage(props: { signup: boolean; notice?: string }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorBody | undefined>();
  const emailInput = useRef<HTMLInputElement>(null);
  const fields = fieldErrors(error);
  const title = props.signup ? "Create a moderator account" : "Sign in to moderate";
  const account = currentAccount();

  useEffect(() => {
    document.title = `${props.signup ? "Sign up" : "Sign in"} · Stepstone`;
    setError(undefined);
    emailInput.current?.focus();
  }, [props.signup]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(undefined);
    const result = props.signup
      ? await signUp({ email, password, displayName })
      : await signIn({ email, password });
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    navigate({ page: "seminars" }, { replace: true });
  };

  const problem =
    error &&
    describeError(error, {
      unauthenticated: "The e-mail or the password is not right.",
      conflict: "An account with this e-mail already exists. Sign in instead.",
      rate_limited: "Too many attempts. Wait a few minutes and try again.",
    });

  return (
    <main class="join" id="main">
      <div class="join-card">
        <p class="brand" aria-hidden="true">
          Stepstone
        </p>
        <h1>{title}</h1>
        <p class="lede">Prepare seminars, run them live and download their transcripts.</p>
        {props.notice && (
          <p class="notice" role="status">
            {props.notice}
          </p>
        )}
        {account && (
          <p class="notice">
            Signed in as {account.displayName}.{" "}
            <a href="/seminars" onClick={follow({ page: "seminars" })}>
              Your seminars
            </a>
          </p>
        )}
        <form onSubmit={submit} noValidate aria-describedby={problem ? "signin-error" : undefined}>
          <Field id="signin-email" label="E-mail" error={fields.email}>
            {(control) => (
              <input
                {...control}
                ref={emailInput}
                type="email"
                name="email"
                value={email}
                onInput={(event) => setEmail(event.currentTarget.value)}
                autocomplete={props.signup ? "email" : "username"}
                maxLength={LIMITS.email.max}
                required
              />
            )}
          </Field>
          <Field
            id="signin-password"
            label="Password"
            error={fields.password}
            hint={props.signup ? `At least ${LIMITS.password.min} characters.` : undefined}
          >
            {(control) => (
              <input
                {...control}
                type="password"
                name="password"
                value={password}
                onInput={(event) => setPassword(event.currentTarget.value)}
                autocomplete={props.signup ? "new-password" : "current-password"}
                maxLength={LIMITS.password.max}
                required
              />
            )}
          </Field>
          {props.signup && (
            <Field
              id="signin-name"
              label="Your name"
              error={fields.displayName}
              hint="Shown to the room when you moderate."
            >
              {(control) => (
                <input
                  {...control}
                  name="displayName"
                  value={displayName}
                  onInput={(event) => setDisplayName(event.currentTarget.value)}
                  autocomplete="name"
                  maxLength={LIMITS.displayName.max * 2}
                  required
                />
              )}
            </Field>
          )}
          {problem && (
            <p class="form-error" id="signin-error" role="alert">
              {problem}
            </p>
          )}
          <button type="submit" class="primary" disabled={busy}>
            {busy ? "Please wait…" : props.signup ? "Create account" : "Sign in"}
          </button>
        </form>
        <p class="switch">
          {props.signup ? "Already have an account? " : "New here? "}
          <a
            href={props.signup ? "/signin" : "/signup"}
            onClick={follow({ page: "signin", signup: !props.signup })}
          >
            {props.signup ? "Sign in" : "Create a moderator account"}
          </a>
        </p>
        <p class="switch">
          <a href="/" onClick={follow({ page: "join", code: "" })}>
            Join a seminar as a participant
          </a>
        </p>
      </div>
    </main>
  );
}
