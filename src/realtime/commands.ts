/**
 * The typed command pipeline. Every command a socket may send is declared once in
 * src/protocol/commands.ts; the server's handlers form a table with exactly one handler per
 * command, whose input is that command's parsed payload and whose result is that command's ack
 * data, so a name, payload or ack that disagrees with the protocol does not compile. One
 * dispatcher runs every command through the same hooks: rate limit, look up, parse, run, ack.
 */

import { fail, fromZodError, toErrorBody } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import {
  COMMAND_INPUTS,
  type CommandInput,
  type CommandName,
  type CommandResult,
  isCommandName,
} from "../protocol/commands.ts";
import type { Result } from "../protocol/result.ts";
import type { SocketActor, TypedSocket } from "./types.ts";

/** What a handler gets besides its input. */
export interface CommandContext {
  /** Who sent it, as admitted at connect; writes decide their rights again (RoomWriter). */
  actor: SocketActor;
  socket: TypedSocket;
}

/** The handler of command E: its parsed payload in, its ack data out. */
export type CommandHandler<E extends CommandName> = (
  input: CommandInput<E>,
  context: CommandContext,
) => Promise<CommandResult<E>>;

/** Handlers for some commands (a module's share of the table). */
export type CommandHandlers<E extends CommandName = CommandName> = { [K in E]: CommandHandler<K> };

/** Hooks the dispatcher runs around every command. */
export interface DispatchHooks {
  /** Rejects (with rate_limited) when the socket or its member sends too fast. */
  limit(socket: TypedSocket, actor: SocketActor): Promise<void>;
  logger: Logger;
  metrics: Metrics;
}

type AckFn = (result: Result<unknown>) => void;

/**
 * Runs one incoming message through the pipeline and answers its ack. A message without an ack
 * function as its last argument is ignored (nothing can be answered); an unknown name is
 * `not_found`; a payload that does not parse is `validation_failed`; nothing else runs then.
 */
export async function dispatch(
  handlers: CommandHandlers,
  hooks: DispatchHooks,
  context: CommandContext,
  event: string,
  args: unknown[],
): Promise<void> {
  const last = args.at(-1);
  if (typeof last !== "function") {
    hooks.logger.debug({ event, socket: context.socket.id }, "command without ack ignored");
    return;
  }
  // Socket.IO hands the client's ack function over as the last argument.
  const ack = last as AckFn;
  const payload = args.length >= 2 ? args[0] : undefined;
  const stop = hooks.metrics.commands.startTimer({ command: isCommandName(event) ? event : "unknown" });
  try {
    await hooks.limit(context.socket, context.actor);
    if (!isCommandName(event)) throw new UnknownCommand(event);
    const data = await runCommand(handlers, event, payload, context);
    stop({ outcome: "ok" });
    ack({ ok: true, data });
  } catch (error) {
    const mapped =
      error instanceof UnknownCommand ? toErrorBody(fail.notFound(`Command ${event}`)) : toErrorBody(error);
    stop({ outcome: mapped.body.code });
    if (mapped.unknown) {
      // A lost database is expected to happen and answered as retryable: a warning, not an error.
      const level = mapped.body.code === "unavailable" ? "warn" : "error";
      hooks.logger[level]({ err: error, command: event, member: context.actor.memberId }, "command failed");
    }
    ack({ ok: false, error: mapped.body });
  }
}

class UnknownCommand extends Error {}

async function runCommand<E extends CommandName>(
  handlers: CommandHandlers,
  name: E,
  payload: unknown,
  context: CommandContext,
): Promise<CommandResult<E>> {
  const parsed = COMMAND_INPUTS[name].safeParse(payload);
  if (!parsed.success) throw fromZodError(parsed.error, `The ${name} payload is not valid.`);
  const handler: CommandHandler<E> = handlers[name];
  // The schema of command E parsed it, so it is CommandInput<E>; zod's result type is the union
  // over every command, which the compiler does not narrow by E.
  return handler(parsed.data as CommandInput<E>, context);
}
