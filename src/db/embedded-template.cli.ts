import { EMBEDDED_TEMPLATE_DIR, writeEmbeddedTemplate } from "./embedded.ts";

/**
 * Run by `npm run build` from the compiled bundle: writes the migrated embedded database template
 * beside it (or to the folder given as the first argument).
 */
async function main(): Promise<void> {
  const target = process.argv[2] ?? EMBEDDED_TEMPLATE_DIR;
  await writeEmbeddedTemplate(target);
  console.log(`embedded database template written to ${target}`);
}

main().catch((error: unknown) => {
  console.error(`embedded-template: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
