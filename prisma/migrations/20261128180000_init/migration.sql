-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "seminar_state" AS ENUM ('draft', 'live', 'ended');

-- CreateEnum
CREATE TYPE "essay_format" AS ENUM ('text', 'markdown');

-- CreateEnum
CREATE TYPE "block_kind" AS ENUM ('heading', 'section_marker', 'caption', 'paragraph', 'quote', 'list_item');

-- CreateEnum
CREATE TYPE "member_role" AS ENUM ('host', 'co_moderator', 'participant', 'observer');

-- CreateEnum
CREATE TYPE "member_status" AS ENUM ('active', 'kicked', 'banned');

-- CreateEnum
CREATE TYPE "prompt_kind" AS ENUM ('single_choice', 'multiple_choice', 'scale');

-- CreateEnum
CREATE TYPE "prompt_state" AS ENUM ('draft', 'open', 'closed');

-- CreateEnum
CREATE TYPE "results_visibility" AS ENUM ('live', 'after_close', 'moderators');

-- CreateEnum
CREATE TYPE "event_audience" AS ENUM ('everyone', 'moderators');

-- CreateTable
CREATE TABLE "accounts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "email" VARCHAR(254) NOT NULL,
    "password_hash" TEXT NOT NULL,
    "display_name" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "seminars" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "owner_id" UUID NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "join_code" VARCHAR(16) NOT NULL,
    "state" "seminar_state" NOT NULL DEFAULT 'draft',
    "last_seq" INTEGER NOT NULL DEFAULT 0,
    "locked" BOOLEAN NOT NULL DEFAULT false,
    "slow_mode_seconds" INTEGER NOT NULL DEFAULT 0,
    "spotlight_paragraph_id" UUID,
    "current_phase_id" UUID,
    "started_at" TIMESTAMPTZ(3),
    "ended_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "seminars_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "essays" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seminar_id" UUID NOT NULL,
    "title" VARCHAR(500) NOT NULL,
    "byline" VARCHAR(500),
    "dateline" VARCHAR(200),
    "language" VARCHAR(35),
    "format" "essay_format" NOT NULL,
    "source_text" TEXT NOT NULL,
    "frozen_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "essays_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "paragraphs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "essay_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "kind" "block_kind" NOT NULL,
    "level" INTEGER,
    "text" TEXT NOT NULL,

    CONSTRAINT "paragraphs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "memberships" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seminar_id" UUID NOT NULL,
    "account_id" UUID,
    "role" "member_role" NOT NULL,
    "display_name" VARCHAR(64) NOT NULL,
    "status" "member_status" NOT NULL DEFAULT 'active',
    "muted_until" TIMESTAMPTZ(3),
    "rights_version" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3),

    CONSTRAINT "memberships_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "annotations" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seminar_id" UUID NOT NULL,
    "paragraph_id" UUID NOT NULL,
    "author_id" UUID NOT NULL,
    "parent_id" UUID,
    "client_id" VARCHAR(64),
    "start_offset" INTEGER,
    "end_offset" INTEGER,
    "quote_exact" TEXT,
    "quote_prefix" TEXT,
    "quote_suffix" TEXT,
    "body" TEXT NOT NULL,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "version" INTEGER NOT NULL DEFAULT 1,
    "edited_at" TIMESTAMPTZ(3),
    "deleted_at" TIMESTAMPTZ(3),
    "hidden_at" TIMESTAMPTZ(3),
    "hidden_by_id" UUID,
    "pinned_at" TIMESTAMPTZ(3),
    "pinned_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "annotations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "annotation_revisions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "annotation_id" UUID NOT NULL,
    "editor_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "body" TEXT NOT NULL,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "annotation_revisions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reactions" (
    "annotation_id" UUID NOT NULL,
    "member_id" UUID NOT NULL,
    "kind" VARCHAR(32) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "reactions_pkey" PRIMARY KEY ("annotation_id","member_id","kind")
);

-- CreateTable
CREATE TABLE "prompts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seminar_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "kind" "prompt_kind" NOT NULL,
    "question" VARCHAR(500) NOT NULL,
    "paragraph_id" UUID,
    "max_choices" INTEGER NOT NULL DEFAULT 1,
    "anonymous" BOOLEAN NOT NULL DEFAULT true,
    "results_visibility" "results_visibility" NOT NULL DEFAULT 'live',
    "state" "prompt_state" NOT NULL DEFAULT 'draft',
    "revealed_at" TIMESTAMPTZ(3),
    "opened_at" TIMESTAMPTZ(3),
    "closed_at" TIMESTAMPTZ(3),
    "tally_version" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "prompts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "prompt_options" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "prompt_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "label" VARCHAR(200) NOT NULL,
    "value" INTEGER,

    CONSTRAINT "prompt_options_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ballots" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "prompt_id" UUID NOT NULL,
    "member_id" UUID NOT NULL,
    "client_ballot_id" UUID NOT NULL,
    "revision" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ballots_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ballot_choices" (
    "ballot_id" UUID NOT NULL,
    "option_id" UUID NOT NULL,

    CONSTRAINT "ballot_choices_pkey" PRIMARY KEY ("ballot_id","option_id")
);

-- CreateTable
CREATE TABLE "tally_snapshots" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "prompt_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "counts" JSONB NOT NULL,
    "ballots" INTEGER NOT NULL,
    "taken_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tally_snapshots_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "phases" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seminar_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "duration_seconds" INTEGER,
    "started_at" TIMESTAMPTZ(3),
    "ended_at" TIMESTAMPTZ(3),

    CONSTRAINT "phases_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "speaking_queue" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seminar_id" UUID NOT NULL,
    "member_id" UUID NOT NULL,
    "raised_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "called_at" TIMESTAMPTZ(3),
    "lowered_at" TIMESTAMPTZ(3),

    CONSTRAINT "speaking_queue_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "moderation_actions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seminar_id" UUID NOT NULL,
    "actor_id" UUID NOT NULL,
    "action" VARCHAR(64) NOT NULL,
    "target_member_id" UUID,
    "target_annotation_id" UUID,
    "reason" VARCHAR(500),
    "details" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "moderation_actions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "room_events" (
    "seminar_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "type" VARCHAR(64) NOT NULL,
    "actor_id" UUID,
    "audience" "event_audience" NOT NULL DEFAULT 'everyone',
    "data" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "room_events_pkey" PRIMARY KEY ("seminar_id","seq")
);

-- CreateIndex
CREATE UNIQUE INDEX "accounts_email_key" ON "accounts"("email");

-- CreateIndex
CREATE UNIQUE INDEX "seminars_join_code_key" ON "seminars"("join_code");

-- CreateIndex
CREATE INDEX "seminars_owner_id_created_at_idx" ON "seminars"("owner_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "essays_seminar_id_key" ON "essays"("seminar_id");

-- CreateIndex
CREATE UNIQUE INDEX "paragraphs_essay_id_position_key" ON "paragraphs"("essay_id", "position");

-- CreateIndex
CREATE INDEX "memberships_account_id_idx" ON "memberships"("account_id");

-- CreateIndex
CREATE UNIQUE INDEX "memberships_seminar_id_display_name_key" ON "memberships"("seminar_id", "display_name");

-- CreateIndex
CREATE UNIQUE INDEX "memberships_seminar_id_account_id_key" ON "memberships"("seminar_id", "account_id");

-- CreateIndex
CREATE INDEX "annotations_seminar_id_paragraph_id_created_at_idx" ON "annotations"("seminar_id", "paragraph_id", "created_at");

-- CreateIndex
CREATE INDEX "annotations_seminar_id_created_at_idx" ON "annotations"("seminar_id", "created_at");

-- CreateIndex
CREATE INDEX "annotations_parent_id_idx" ON "annotations"("parent_id");

-- CreateIndex
CREATE INDEX "annotations_tags_idx" ON "annotations" USING GIN ("tags");

-- CreateIndex
CREATE UNIQUE INDEX "annotations_author_id_client_id_key" ON "annotations"("author_id", "client_id");

-- CreateIndex
CREATE UNIQUE INDEX "annotation_revisions_annotation_id_version_key" ON "annotation_revisions"("annotation_id", "version");

-- CreateIndex
CREATE UNIQUE INDEX "prompts_seminar_id_position_key" ON "prompts"("seminar_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "prompt_options_prompt_id_position_key" ON "prompt_options"("prompt_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "ballots_prompt_id_member_id_key" ON "ballots"("prompt_id", "member_id");

-- CreateIndex
CREATE INDEX "ballot_choices_option_id_idx" ON "ballot_choices"("option_id");

-- CreateIndex
CREATE UNIQUE INDEX "tally_snapshots_prompt_id_version_key" ON "tally_snapshots"("prompt_id", "version");

-- CreateIndex
CREATE UNIQUE INDEX "phases_seminar_id_position_key" ON "phases"("seminar_id", "position");

-- CreateIndex
CREATE INDEX "speaking_queue_seminar_id_raised_at_idx" ON "speaking_queue"("seminar_id", "raised_at");

-- CreateIndex
CREATE INDEX "moderation_actions_seminar_id_created_at_idx" ON "moderation_actions"("seminar_id", "created_at");

-- AddForeignKey
ALTER TABLE "seminars" ADD CONSTRAINT "seminars_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "seminars" ADD CONSTRAINT "seminars_spotlight_paragraph_id_fkey" FOREIGN KEY ("spotlight_paragraph_id") REFERENCES "paragraphs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "seminars" ADD CONSTRAINT "seminars_current_phase_id_fkey" FOREIGN KEY ("current_phase_id") REFERENCES "phases"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "essays" ADD CONSTRAINT "essays_seminar_id_fkey" FOREIGN KEY ("seminar_id") REFERENCES "seminars"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "paragraphs" ADD CONSTRAINT "paragraphs_essay_id_fkey" FOREIGN KEY ("essay_id") REFERENCES "essays"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_seminar_id_fkey" FOREIGN KEY ("seminar_id") REFERENCES "seminars"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "annotations" ADD CONSTRAINT "annotations_seminar_id_fkey" FOREIGN KEY ("seminar_id") REFERENCES "seminars"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "annotations" ADD CONSTRAINT "annotations_paragraph_id_fkey" FOREIGN KEY ("paragraph_id") REFERENCES "paragraphs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "annotations" ADD CONSTRAINT "annotations_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "memberships"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "annotations" ADD CONSTRAINT "annotations_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "annotations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "annotations" ADD CONSTRAINT "annotations_hidden_by_id_fkey" FOREIGN KEY ("hidden_by_id") REFERENCES "memberships"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "annotations" ADD CONSTRAINT "annotations_pinned_by_id_fkey" FOREIGN KEY ("pinned_by_id") REFERENCES "memberships"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "annotation_revisions" ADD CONSTRAINT "annotation_revisions_annotation_id_fkey" FOREIGN KEY ("annotation_id") REFERENCES "annotations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "annotation_revisions" ADD CONSTRAINT "annotation_revisions_editor_id_fkey" FOREIGN KEY ("editor_id") REFERENCES "memberships"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reactions" ADD CONSTRAINT "reactions_annotation_id_fkey" FOREIGN KEY ("annotation_id") REFERENCES "annotations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reactions" ADD CONSTRAINT "reactions_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "memberships"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prompts" ADD CONSTRAINT "prompts_seminar_id_fkey" FOREIGN KEY ("seminar_id") REFERENCES "seminars"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prompts" ADD CONSTRAINT "prompts_paragraph_id_fkey" FOREIGN KEY ("paragraph_id") REFERENCES "paragraphs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prompt_options" ADD CONSTRAINT "prompt_options_prompt_id_fkey" FOREIGN KEY ("prompt_id") REFERENCES "prompts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ballots" ADD CONSTRAINT "ballots_prompt_id_fkey" FOREIGN KEY ("prompt_id") REFERENCES "prompts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ballots" ADD CONSTRAINT "ballots_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "memberships"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ballot_choices" ADD CONSTRAINT "ballot_choices_ballot_id_fkey" FOREIGN KEY ("ballot_id") REFERENCES "ballots"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ballot_choices" ADD CONSTRAINT "ballot_choices_option_id_fkey" FOREIGN KEY ("option_id") REFERENCES "prompt_options"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tally_snapshots" ADD CONSTRAINT "tally_snapshots_prompt_id_fkey" FOREIGN KEY ("prompt_id") REFERENCES "prompts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "phases" ADD CONSTRAINT "phases_seminar_id_fkey" FOREIGN KEY ("seminar_id") REFERENCES "seminars"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "speaking_queue" ADD CONSTRAINT "speaking_queue_seminar_id_fkey" FOREIGN KEY ("seminar_id") REFERENCES "seminars"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "speaking_queue" ADD CONSTRAINT "speaking_queue_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "memberships"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "moderation_actions" ADD CONSTRAINT "moderation_actions_seminar_id_fkey" FOREIGN KEY ("seminar_id") REFERENCES "seminars"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "moderation_actions" ADD CONSTRAINT "moderation_actions_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "memberships"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "moderation_actions" ADD CONSTRAINT "moderation_actions_target_member_id_fkey" FOREIGN KEY ("target_member_id") REFERENCES "memberships"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "moderation_actions" ADD CONSTRAINT "moderation_actions_target_annotation_id_fkey" FOREIGN KEY ("target_annotation_id") REFERENCES "annotations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "room_events" ADD CONSTRAINT "room_events_seminar_id_fkey" FOREIGN KEY ("seminar_id") REFERENCES "seminars"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "room_events" ADD CONSTRAINT "room_events_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "memberships"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

