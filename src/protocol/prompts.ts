/** Prompt commands and their payload schemas (filled in by the prompts issue). */

/** prompt:* commands a client sends. */
export type PromptCommands = Record<never, never>;
