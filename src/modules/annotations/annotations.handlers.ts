import type { AppContext } from "../../context.ts";
import type { Command, Realtime } from "../../realtime/server.ts";

/** annotation:* commands. */
export function annotationCommands(_context: AppContext, _realtime: Realtime): Record<string, Command> {
  return {};
}
