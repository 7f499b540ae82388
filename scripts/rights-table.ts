/**
 * Writes the rights table (src/modules/moderation/moderation.policy.ts) into docs/moderation.md
 * between its markers: `npx tsx scripts/rights-table.ts`. The test beside the policy fails when
 * the document is out of date.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { withRightsTable } from "../src/modules/moderation/rights-table.ts";

const path = fileURLToPath(new URL("../docs/moderation.md", import.meta.url));
await writeFile(path, withRightsTable(await readFile(path, "utf8")));
console.log(`wrote the rights table into ${path}`);
