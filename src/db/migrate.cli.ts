import { loadConfig } from "../config.ts";
import { EMBEDDED_TEMPLATE_DIR, startEmbeddedPostgres } from "./embedded.ts";
import { migrate } from "./migrator.ts";

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
async function main(): Promise<void> {
  const config = loadConfig();
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres(config.dataDir, { template: EMBEDDED_TEMPLATE_DIR });
  try {
    const url = config.databaseUrl ?? embedded!.url;
    const report = await migrate(url, { log: (line) => console.log(line) });
    console.log(
      report.applied.length === 0
        ? `Database is up to date (${report.alreadyApplied.length} migrations applied).`
        : `Applied ${report.applied.length} migration(s).`,
    );
  } finally {
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`db:migrate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
