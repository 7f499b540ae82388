-- AlterTable
ALTER TABLE "seminars" ADD COLUMN     "transcript_access" BOOLEAN NOT NULL DEFAULT false;
