-- Moderation and guests who stay themselves: mutes with a start (and an optional end), the hash of a
-- guest's resume secret, phases with a kind and a server-owned deadline, a spotlighted span, and the
-- speaking queue ordered by the room event that accepted each raise.
-- CreateEnum
CREATE TYPE "phase_kind" AS ENUM ('reading', 'discussion', 'voting', 'wrap_up', 'custom');

-- DropIndex
DROP INDEX "speaking_queue_seminar_id_raised_at_idx";

-- AlterTable
ALTER TABLE "memberships" ADD COLUMN     "muted_at" TIMESTAMPTZ(3),
ADD COLUMN     "resume_secret_hash" VARCHAR(64);

-- AlterTable
ALTER TABLE "phases" ADD COLUMN     "deadline_at" TIMESTAMPTZ(3),
ADD COLUMN     "kind" "phase_kind" NOT NULL DEFAULT 'custom';

-- AlterTable
ALTER TABLE "seminars" ADD COLUMN     "spotlight_end" INTEGER,
ADD COLUMN     "spotlight_start" INTEGER;

-- AlterTable
ALTER TABLE "speaking_queue" ADD COLUMN     "raised_seq" INTEGER NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "memberships_resume_secret_hash_key" ON "memberships"("resume_secret_hash");

-- CreateIndex
CREATE INDEX "speaking_queue_seminar_id_raised_seq_idx" ON "speaking_queue"("seminar_id", "raised_seq");
