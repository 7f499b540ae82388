-- Ballots committed in groups: the ballots of one prompt that arrive while the previous group is
-- being written are cast together, by one call of this function, in one transaction and one commit.
-- Each ballot keeps its own outcome: a voter without the right to vote is refused alone and the
-- others are stored; anything else that fails (the database, a lock timeout) fails the whole call
-- and stores nothing. The group is applied in the order given, one ballot after the other, so a
-- member's later ballot in the same group replaces their earlier one and each raises the revision;
-- callers order a group by member id, so concurrent groups (other nodes) lock ballot rows in the
-- same order and cannot deadlock. stepstone_cast_ballot (one ballot) stays for nodes of the previous
-- version during a rolling restart.
CREATE FUNCTION "stepstone_cast_ballots"(
    p_prompt UUID,
    p_seminar UUID,
    p_members UUID[],
    -- The rights version each voter's connection was admitted with (NULL: not checked).
    p_rights INTEGER[],
    p_clients UUID[],
    -- How many options each ballot picks; p_options holds them all, ballot after ballot.
    p_counts INTEGER[],
    p_options UUID[]
) RETURNS TABLE ("ordinal" INTEGER, "outcome" TEXT, "stored_revision" INTEGER, "stored_options" UUID[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_id UUID;
    v_revision INTEGER;
    v_picked UUID[];
    v_next INTEGER := 1;
    v_refused INTEGER[];
    r RECORD;
BEGIN
    -- The shared lock of every ballot: groups run side by side, a close waits for those in flight,
    -- and a group after the close is refused whole (nothing stored).
    PERFORM 1 FROM "prompts"
    WHERE "id" = p_prompt AND "seminar_id" = p_seminar AND "state" = 'open'
    FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'stepstone:prompt_not_open' USING ERRCODE = 'P0001';
    END IF;

    -- The voters' rights as stored now, in one query for the group: an active participant of the
    -- seminar, admitted at this rights version. The others are refused one by one below.
    SELECT coalesce(array_agg(u."ord"::INTEGER), '{}') INTO v_refused
    FROM unnest(p_members, p_rights) WITH ORDINALITY AS u("member", "rights", "ord")
    WHERE NOT EXISTS (
        SELECT 1 FROM "memberships" m
        WHERE m."id" = u."member" AND m."seminar_id" = p_seminar AND m."status" = 'active'
          AND m."role" = 'participant' AND (u."rights" IS NULL OR m."rights_version" = u."rights")
    );

    -- Ballot after ballot, in the order given. (Rows of unnest rather than array subscripts:
    -- subscripting a parameter array in a loop costs time in proportion to its length.)
    FOR r IN
        SELECT u."member", u."client", u."picks", u."ord"::INTEGER AS "ord"
        FROM unnest(p_members, p_clients, p_counts) WITH ORDINALITY AS u("member", "client", "picks", "ord")
    LOOP
        v_picked := p_options[v_next : v_next + r."picks" - 1];
        v_next := v_next + r."picks";
        ordinal := r."ord";

        IF r."ord" = ANY (v_refused) THEN
            outcome := 'not_a_voter';
            stored_revision := NULL;
            stored_options := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;

        v_id := NULL;
        INSERT INTO "ballots" ("prompt_id", "member_id", "client_ballot_id", "revision", "updated_at")
        VALUES (p_prompt, r."member", r."client", 1, now())
        ON CONFLICT ("prompt_id", "member_id") DO UPDATE
            SET "client_ballot_id" = EXCLUDED."client_ballot_id",
                "revision" = "ballots"."revision" + 1,
                "updated_at" = now()
            WHERE "ballots"."client_ballot_id" <> EXCLUDED."client_ballot_id"
        RETURNING "ballots"."id", "ballots"."revision" INTO v_id, v_revision;

        IF v_id IS NULL THEN
            -- A retry of the stored ballot (same client id): nothing changes; answer what is stored.
            SELECT b."id", b."revision" INTO v_id, v_revision
            FROM "ballots" b WHERE b."prompt_id" = p_prompt AND b."member_id" = r."member";
            outcome := 'unchanged';
            stored_revision := v_revision;
            stored_options := ARRAY(
                SELECT c."option_id" FROM "ballot_choices" c WHERE c."ballot_id" = v_id ORDER BY c."option_id"
            );
            RETURN NEXT;
            CONTINUE;
        END IF;

        DELETE FROM "ballot_choices" c WHERE c."ballot_id" = v_id AND c."option_id" <> ALL (v_picked);
        INSERT INTO "ballot_choices" ("ballot_id", "option_id")
        SELECT v_id, picked FROM unnest(v_picked) AS picked
        ON CONFLICT ON CONSTRAINT "ballot_choices_pkey" DO NOTHING;

        outcome := 'stored';
        stored_revision := v_revision;
        stored_options := v_picked;
        RETURN NEXT;
    END LOOP;
END;
$$;
