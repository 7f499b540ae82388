-- Casting a ballot in one server-side call, without writing to the prompt row: ballots of one
-- prompt take a shared lock on it (FOR SHARE), so they run side by side, while a close (which locks
-- the row FOR NO KEY UPDATE) waits for the ballots in flight and ballots after it see it closed.
-- A prompt's tally version is the sum of its ballots' revisions, read with the counts, so no hot
-- row is needed. Each statement below takes its own snapshot (VOLATILE, READ COMMITTED), so the
-- choices of a concurrent ballot of the same member that committed while this one waited for the
-- ballot row are seen and replaced.
CREATE FUNCTION "stepstone_cast_ballot"(
    p_prompt UUID,
    p_seminar UUID,
    p_member UUID,
    p_client UUID,
    p_options UUID[]
) RETURNS TABLE ("ballot_id" UUID, "revision" INTEGER, "changed" BOOLEAN)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_id UUID;
    v_revision INTEGER;
BEGIN
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
