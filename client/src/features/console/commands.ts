/**
 * Sending a moderation command from the console: the ack decides, and a refusal is kept in
 * `ui.refusal` with the server's typed error, which the console shows until dismissed or until
 * the next command succeeds.
 */
import type { CommandName, CommandPayload, CommandResult } from "../../../../src/protocol/commands.ts";
import type { ErrorBody, Result } from "../../../../src/protocol/result.ts";
import { useRoom } from "../seminars/room-ui.ts";

/** Sends `event` as `action` (words for people, "Kick Ada"); answers the ack. */
export type RunCommand = <E extends CommandName>(
  action: string,
  event: E,
  payload: CommandPayload<E>,
) => Promise<Result<CommandResult<E>>>;

/** The console's command sender (inside a room context). */
export function useCommand(): RunCommand {
  const { connection, ui } = useRoom();
  return async (action, event, payload) => {
    const result = await connection.command(event, payload);
    ui.refusal.value = result.ok ? null : { action, error: result.error };
    return result;
  };
}

/** The sentence shown for a refusal: what, why, and the code (and when to retry, if said). */
export function describeRefusal(action: string, error: ErrorBody): string {
  const details = error.details as { retryAfterMs?: unknown } | undefined;
  const retry =
    typeof details?.retryAfterMs === "number"
      ? ` Try again in ${Math.max(1, Math.ceil(details.retryAfterMs / 1000))} s.`
      : "";
  return `${action} was refused: ${error.message}${retry}`;
}
