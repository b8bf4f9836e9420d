-- SSE streams (issue 15): the events of the streamable Soketi channels
-- (`private-chatbot-{conversationId}`, `presence-tenant.{tenantId}.thread.{threadKey}`),
-- recorded by the writers of both backends with the exact JSON text they
-- publish to Pusher, and fanned out to every process with LISTEN/NOTIFY.
--
-- `id` is the SSE `id:`. Writers call stream_event_append(), which takes a
-- per-channel transaction advisory lock before taking the id, so within a
-- channel ids commit in increasing order (a reader that has seen id N never
-- later sees a smaller id appear). The insert trigger notifies
-- `stream_events` with `channel:id`; notifications are delivered at commit.
-- Retention: stream_events_prune() deletes rows older than its argument and
-- remembers the highest id it deleted, so a resume from before it is known
-- to have a gap (the stream answers `event: reset`).

CREATE TABLE "stream_events" (
    "id"         BIGSERIAL PRIMARY KEY,
    "channel"    TEXT NOT NULL,
    "event"      TEXT NOT NULL,
    "payload"    TEXT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX "stream_events_channel_id_idx" ON "stream_events" ("channel", "id");
CREATE INDEX "stream_events_created_at_idx" ON "stream_events" ("created_at");

-- One row: the highest id retention has deleted.
CREATE TABLE "stream_events_horizon" (
    "one"            BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK ("one"),
    "pruned_through" BIGINT NOT NULL DEFAULT 0
);
INSERT INTO "stream_events_horizon" DEFAULT VALUES;

CREATE FUNCTION stream_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('stream_events', NEW."channel" || ':' || NEW."id");
    RETURN NULL;
END
$$;

CREATE TRIGGER stream_events_notify AFTER INSERT ON "stream_events"
    FOR EACH ROW EXECUTE FUNCTION stream_events_notify();

-- Append one event; returns its id. Call it as its own statement (autocommit)
-- or last in a transaction: the lock is held until commit.
CREATE FUNCTION stream_event_append(p_channel TEXT, p_event TEXT, p_payload TEXT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    new_id BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('stream_events:' || p_channel, 0));
    INSERT INTO "stream_events" ("channel", "event", "payload")
    VALUES (p_channel, p_event, p_payload)
    RETURNING "id" INTO new_id;
    RETURN new_id;
END
$$;

-- Delete events older than `keep`; returns how many were deleted.
CREATE FUNCTION stream_events_prune(keep INTERVAL) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    deleted BIGINT;
    top BIGINT;
BEGIN
    WITH gone AS (
        DELETE FROM "stream_events" WHERE "created_at" < now() - keep RETURNING "id"
    )
    SELECT count(*), max("id") INTO deleted, top FROM gone;
    IF top IS NOT NULL THEN
        UPDATE "stream_events_horizon" SET "pruned_through" = GREATEST("pruned_through", top);
    END IF;
    RETURN deleted;
END
$$;
