-- AlterTable
ALTER TABLE "prompts" DROP COLUMN "tally_version";
