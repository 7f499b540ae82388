import type { AppContext } from "../../context.ts";
import {
  PromptCreateInput,
  PromptRefInput,
  PromptUpdateInput,
  PromptVoteInput,
} from "../../protocol/prompts.ts";
import { type Command, command, type Realtime } from "../../realtime/server.ts";
import {
  castVote,
  changePromptState,
  createPrompt,
  type PromptDeps,
  type PromptStep,
  updatePrompt,
} from "./prompts.service.ts";
import { talliesFor } from "./tallies.ts";

/** The services' dependencies for this application (one tally coalescer per Realtime). */
export function promptDeps(context: AppContext, realtime: Realtime): PromptDeps {
  return { prisma: context.prisma, rooms: realtime.rooms, tallies: talliesFor(context, realtime) };
}

/**
 * prompt:create, prompt:update, prompt:open, prompt:close, prompt:reopen, prompt:reveal (acks
 * PromptView) and prompt:vote (acks BallotView). See PromptCommands for the error codes.
 */
export function promptCommands(context: AppContext, realtime: Realtime): Record<string, Command> {
  const deps = promptDeps(context, realtime);
  const step = (name: PromptStep) =>
    command(PromptRefInput, (input, actor) => changePromptState(deps, actor, input.promptId, name));
  return {
    "prompt:create": command(PromptCreateInput, (input, actor) => createPrompt(deps, actor, input)),
    "prompt:update": command(PromptUpdateInput, (input, actor) =>
      updatePrompt(deps, actor, input.promptId, input.prompt),
    ),
    "prompt:open": step("open"),
    "prompt:close": step("close"),
    "prompt:reopen": step("reopen"),
    "prompt:reveal": step("reveal"),
    "prompt:vote": command(PromptVoteInput, (input, actor) => castVote(deps, actor, input)),
  };
}
