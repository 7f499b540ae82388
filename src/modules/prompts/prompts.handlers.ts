import type { AppContext } from "../../context.ts";
import type { Command, Realtime } from "../../realtime/server.ts";

/** prompt:* commands. */
export function promptCommands(_context: AppContext, _realtime: Realtime): Record<string, Command> {
  return {};
}
