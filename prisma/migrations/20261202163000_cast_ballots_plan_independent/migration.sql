-- The group write without plans that grow with the square of the group: measured in a hall of
-- 5,000 (2026-12-02 16:15, auto_explain), a group of 1,024 took 650 ms in PostgreSQL, most of it in
-- two joins the planner made nested loops because it cannot see how many ballots a group holds
-- (the function's cached generic plan estimates 10) nor, right after a hall joined, how many
-- members a seminar has: the voters' rights were checked against every member of the seminar
-- for every ballot, and the answers were matched to the input by comparing every pair. Now each
-- voter's membership is looked up by its primary key, and the answers are assembled by grouping
-- on the member instead of joining. Same signature, same answers; 1,000 fresh ballots in a seminar
-- of 8,000 members with a generic plan 190 ms before, 48-52 ms after.
CREATE OR REPLACE FUNCTION "stepstone_cast_ballots"(
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
    -- A scalar subquery is not turned into a join: each voter is one primary-key lookup, whatever
    -- the planner believes about the seminar's size.
    WHERE NOT coalesce((
        SELECT m."seminar_id" = p_seminar AND m."status" = 'active' AND m."role" = 'participant'
          AND (u."rights" IS NULL OR m."rights_version" = u."rights")
        FROM "memberships" m WHERE m."id" = u."member"
    ), false);

    -- The common case, every voter once in the group: three statements for the whole group instead
    -- of three per ballot. The ballot rows are written in the order given (the callers' order by
    -- member id), replaced only when their client id changed (a retry changes nothing and is
    -- answered with what is stored); the choices of replaced ballots that are no longer picked go,
    -- the picked ones are added. The statement's parts see one snapshot: the choices removed are
    -- never the ones added, and a fresh ballot (revision 1) has none to remove.
    IF cardinality(p_members) = (SELECT count(DISTINCT m) FROM unnest(p_members) AS m) THEN
        RETURN QUERY
        WITH "input" AS (
            SELECT x."member", x."client", x."ord"::INTEGER AS "ord",
                p_options[(x."last" - x."picks" + 1)::INTEGER : x."last"::INTEGER] AS "picked"
            FROM (
                SELECT u.*, sum(u."picks") OVER (ORDER BY u."ord") AS "last"
                FROM unnest(p_members, p_clients, p_counts) WITH ORDINALITY AS u("member", "client", "picks", "ord")
            ) x
        ),
        "voting" AS (
            SELECT i.* FROM "input" i WHERE NOT (i."ord" = ANY (v_refused))
        ),
        "written" AS (
            INSERT INTO "ballots" ("prompt_id", "member_id", "client_ballot_id", "revision", "updated_at")
            SELECT p_prompt, v."member", v."client", 1, now() FROM "voting" v ORDER BY v."ord"
            ON CONFLICT ("prompt_id", "member_id") DO UPDATE
                SET "client_ballot_id" = EXCLUDED."client_ballot_id",
                    "revision" = "ballots"."revision" + 1,
                    "updated_at" = now()
                WHERE "ballots"."client_ballot_id" <> EXCLUDED."client_ballot_id"
            RETURNING "ballots"."id", "ballots"."member_id", "ballots"."revision"
        ),
        "dropped" AS (
            DELETE FROM "ballot_choices" c
            USING "written" w JOIN "voting" v ON v."member" = w."member_id"
            WHERE c."ballot_id" = w."id" AND w."revision" > 1 AND c."option_id" <> ALL (v."picked")
        ),
        "chosen" AS (
            INSERT INTO "ballot_choices" ("ballot_id", "option_id")
            SELECT w."id", p."option"
            FROM "written" w JOIN "voting" v ON v."member" = w."member_id", unnest(v."picked") AS p("option")
            ON CONFLICT ON CONSTRAINT "ballot_choices_pkey" DO NOTHING
        ),
        "kept" AS (
            SELECT b."member_id", b."revision",
                ARRAY(
                    SELECT c."option_id" FROM "ballot_choices" c WHERE c."ballot_id" = b."id" ORDER BY c."option_id"
                ) AS "options"
            FROM "ballots" b
            WHERE b."prompt_id" = p_prompt
              AND b."member_id" IN (SELECT v."member" FROM "voting" v)
              AND b."member_id" NOT IN (SELECT w."member_id" FROM "written" w)
        )
        -- Each ballot's answer: its input row, its written row or its kept row, brought together by
        -- grouping on the member (each voter is in the group once), not by joining: a join of these
        -- CTEs was planned as a nested loop, every input row against every written one.
        SELECT g."ord",
            CASE WHEN g."ord" = ANY (v_refused) THEN 'not_a_voter'
                 WHEN g."stored" THEN 'stored' ELSE 'unchanged' END,
            CASE WHEN g."ord" = ANY (v_refused) THEN NULL
                 WHEN g."stored" THEN g."written_revision" ELSE g."kept_revision" END,
            CASE WHEN g."ord" = ANY (v_refused) THEN NULL
                 WHEN g."stored" THEN g."picked" ELSE g."kept_options" END
        FROM (
            SELECT e."member", max(e."ord") AS "ord", max(e."picked") AS "picked",
                bool_or(e."stored") AS "stored", max(e."written_revision") AS "written_revision",
                max(e."kept_revision") AS "kept_revision", max(e."kept_options") AS "kept_options"
            FROM (
                SELECT i."member", i."ord", i."picked", false AS "stored", NULL::INTEGER AS "written_revision",
                    NULL::INTEGER AS "kept_revision", NULL::UUID[] AS "kept_options"
                FROM "input" i
                UNION ALL
                SELECT w."member_id", NULL, NULL, true, w."revision", NULL, NULL FROM "written" w
                UNION ALL
                SELECT k."member_id", NULL, NULL, false, NULL, k."revision", k."options" FROM "kept" k
            ) e
            GROUP BY e."member"
        ) g
        ORDER BY g."ord";
        RETURN;
    END IF;

    -- A voter more than once in the group: ballot after ballot, in the order given, each seeing the
    -- one before. (Rows of unnest rather than array subscripts:
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
