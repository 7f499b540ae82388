-- The room log records facts (ids and changed fields), not presented views: events written by
-- earlier versions carried whole views; each is reduced to the ids it is about. Text stays only in
-- the domain rows, which presenters read when they deliver an event.
UPDATE "room_events" SET "data" = jsonb_build_object('memberId', "data"->'member'->>'id')
WHERE "type" = 'member:joined';
UPDATE "room_events" SET "data" = jsonb_build_object('memberId', "data"->'member'->>'id', 'changed', '[]'::jsonb)
WHERE "type" = 'member:updated';
UPDATE "room_events" SET "data" = '{}'::jsonb
WHERE "type" IN ('seminar:started', 'seminar:ended', 'essay:replaced');
UPDATE "room_events" SET "data" = '{"changed": []}'::jsonb
WHERE "type" = 'seminar:updated';
UPDATE "room_events" SET "data" = jsonb_build_object('annotationId', "data"->'annotation'->>'id')
WHERE "type" IN ('annotation:created', 'annotation:deleted');
UPDATE "room_events"
SET "data" = jsonb_build_object('annotationId', "data"->'annotation'->>'id', 'version', ("data"->'annotation'->>'version')::int)
WHERE "type" = 'annotation:updated';
UPDATE "room_events"
SET "data" = jsonb_build_object('annotationId', "data"->'annotation'->>'id', 'action', 'hide', 'reason', NULL)
WHERE "type" = 'annotation:moderated';
UPDATE "room_events" SET "data" = jsonb_build_object('promptId', "data"->'prompt'->>'id')
WHERE "type" IN ('prompt:created', 'prompt:updated', 'prompt:opened', 'prompt:closed', 'prompt:revealed');

-- Ballots check the voter's rights at the moment they are cast, in the same statement: an active
-- participant of the prompt's seminar whose rights version is the one their connection was
-- admitted with. A member kicked, banned or given another role is refused on every node at once.
DROP FUNCTION "stepstone_cast_ballot"(UUID, UUID, UUID, UUID, UUID[]);

CREATE FUNCTION "stepstone_cast_ballot"(
    p_prompt UUID,
    p_seminar UUID,
    p_member UUID,
    p_rights INTEGER,
    p_client UUID,
    p_options UUID[]
) RETURNS TABLE ("ballot_id" UUID, "revision" INTEGER, "changed" BOOLEAN)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_id UUID;
    v_revision INTEGER;
BEGIN
    PERFORM 1 FROM "memberships"
    WHERE "id" = p_member AND "seminar_id" = p_seminar AND "status" = 'active' AND "role" = 'participant'
      AND (p_rights IS NULL OR "rights_version" = p_rights);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'stepstone:not_a_voter' USING ERRCODE = 'P0001';
    END IF;

    PERFORM 1 FROM "prompts"
    WHERE "id" = p_prompt AND "seminar_id" = p_seminar AND "state" = 'open'
    FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'stepstone:prompt_not_open' USING ERRCODE = 'P0001';
    END IF;

    INSERT INTO "ballots" ("prompt_id", "member_id", "client_ballot_id", "revision", "updated_at")
    VALUES (p_prompt, p_member, p_client, 1, now())
    ON CONFLICT ("prompt_id", "member_id") DO UPDATE
        SET "client_ballot_id" = EXCLUDED."client_ballot_id",
            "revision" = "ballots"."revision" + 1,
            "updated_at" = now()
        WHERE "ballots"."client_ballot_id" <> EXCLUDED."client_ballot_id"
    RETURNING "ballots"."id", "ballots"."revision" INTO v_id, v_revision;

    IF v_id IS NULL THEN
        -- A retry of the stored ballot (same client id): nothing changes.
        SELECT b."id", b."revision" INTO v_id, v_revision
        FROM "ballots" b WHERE b."prompt_id" = p_prompt AND b."member_id" = p_member;
        RETURN QUERY SELECT v_id, v_revision, false;
        RETURN;
    END IF;

    DELETE FROM "ballot_choices" c WHERE c."ballot_id" = v_id AND c."option_id" <> ALL (p_options);
    INSERT INTO "ballot_choices" ("ballot_id", "option_id")
    SELECT v_id, picked FROM unnest(p_options) AS picked
    ON CONFLICT ON CONSTRAINT "ballot_choices_pkey" DO NOTHING;

    RETURN QUERY SELECT v_id, v_revision, true;
END;
$$;
