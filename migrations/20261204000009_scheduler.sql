-- The schedule of each connection, kept in step with its connection events inside the
-- writing transaction (like `connection_registry`), so that deactivating, switching to manual
-- or deleting a connection stops its schedule at once, whatever replica writes it.
--
-- Replicas claim due schedules with `FOR UPDATE SKIP LOCKED`: a claim sets `claimed_until` a
-- lease ahead, the run is requested, then `next_run_at` becomes the request time plus the
-- interval. A replica that dies between claim and request leaves a lease that expires, so the
-- slot is taken over instead of lost. The runs themselves hold their leases in `sync_runs`
-- (`heartbeat_at`, renewed while they run).
CREATE TABLE connection_schedules (
    connection_id        text        PRIMARY KEY,
    account_id           text        NOT NULL,
    automatic            boolean     NOT NULL,
    active               boolean     NOT NULL,
    deleted              boolean     NOT NULL DEFAULT false,
    interval_seconds     integer     NOT NULL CHECK (interval_seconds > 0),
    -- A digest of the login and source: saving other credentials resumes a paused schedule.
    credentials          text        NOT NULL,
    -- When the next scheduled run is due; at once when it has passed.
    next_run_at          timestamptz NOT NULL DEFAULT now(),
    -- When the last scheduled run was requested.
    last_run_at          timestamptz,
    -- A replica claimed the due slot until then; after that another may take it over.
    claimed_until        timestamptz,
    consecutive_failures integer     NOT NULL DEFAULT 0,
    auth_failures        integer     NOT NULL DEFAULT 0,
    paused_reason        text,
    last_error_code      text,
    last_error_message   text
);

CREATE INDEX connection_schedules_due ON connection_schedules (next_run_at)
    WHERE automatic AND active AND NOT deleted AND paused_reason IS NULL;

CREATE FUNCTION connection_schedules_credentials(settings jsonb, source text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT md5(coalesce(settings ->> 'username', '') || ' ' || coalesce(source, ''))
$$;

CREATE FUNCTION connection_schedules_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    schedule jsonb := NEW.payload -> 'schedule';
    new_credentials text;
BEGIN
    IF NEW.event_type = 'ConnectionCreated' THEN
        INSERT INTO connection_schedules
               (connection_id, account_id, automatic, active, interval_seconds, credentials)
        VALUES (NEW.aggregate_id, NEW.account_id, schedule ->> 'mode' = 'AUTOMATIC',
                (schedule ->> 'active')::boolean, (schedule ->> 'interval')::integer,
                connection_schedules_credentials(NEW.payload -> 'settings', NEW.payload ->> 'source'))
        ON CONFLICT (connection_id) DO NOTHING;
    ELSIF NEW.event_type = 'ScheduleChanged' THEN
        UPDATE connection_schedules
           SET automatic = schedule ->> 'mode' = 'AUTOMATIC',
               active = (schedule ->> 'active')::boolean,
               next_run_at = CASE
                   WHEN last_run_at IS NOT NULL
                        AND interval_seconds <> (schedule ->> 'interval')::integer
                   THEN last_run_at + make_interval(secs => (schedule ->> 'interval')::integer)
                   ELSE next_run_at END,
               interval_seconds = (schedule ->> 'interval')::integer
         WHERE connection_id = NEW.aggregate_id;
    ELSIF NEW.event_type = 'ApiKeyReplaced' THEN
        UPDATE connection_schedules
           SET paused_reason = NULL, auth_failures = 0, next_run_at = least(next_run_at, now())
         WHERE connection_id = NEW.aggregate_id AND paused_reason IS NOT NULL;
    ELSIF NEW.event_type = 'ConnectionSettingsChanged' THEN
        new_credentials := connection_schedules_credentials(NEW.payload -> 'settings', NEW.payload ->> 'source');
        UPDATE connection_schedules
           SET credentials = new_credentials,
               paused_reason = NULL, auth_failures = 0,
               next_run_at = CASE WHEN paused_reason IS NULL THEN next_run_at
                                  ELSE least(next_run_at, now()) END
         WHERE connection_id = NEW.aggregate_id
           AND credentials <> new_credentials;
    ELSIF NEW.event_type = 'ConnectionDeleted' THEN
        UPDATE connection_schedules SET deleted = true WHERE connection_id = NEW.aggregate_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER connection_schedules_follow
    AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.aggregate_type = 'connection')
    EXECUTE FUNCTION connection_schedules_follow();

-- Connections that existed before this migration: their latest schedule and settings.
INSERT INTO connection_schedules
       (connection_id, account_id, automatic, active, interval_seconds, credentials, deleted)
SELECT created.aggregate_id, created.account_id,
       coalesce(schedule.value, created.payload -> 'schedule') ->> 'mode' = 'AUTOMATIC',
       (coalesce(schedule.value, created.payload -> 'schedule') ->> 'active')::boolean,
       (coalesce(schedule.value, created.payload -> 'schedule') ->> 'interval')::integer,
       connection_schedules_credentials(
           coalesce(settings.value, created.payload) -> 'settings',
           coalesce(settings.value, created.payload) ->> 'source'),
       coalesce(registry.deleted, false)
  FROM events created
  LEFT JOIN LATERAL (
        SELECT payload -> 'schedule' AS value FROM events
         WHERE aggregate_type = 'connection' AND aggregate_id = created.aggregate_id
           AND event_type = 'ScheduleChanged'
         ORDER BY sequence DESC LIMIT 1) schedule ON true
  LEFT JOIN LATERAL (
        SELECT payload AS value FROM events
         WHERE aggregate_type = 'connection' AND aggregate_id = created.aggregate_id
           AND event_type = 'ConnectionSettingsChanged'
         ORDER BY sequence DESC LIMIT 1) settings ON true
  LEFT JOIN connection_registry registry ON registry.connection_id = created.aggregate_id
 WHERE created.aggregate_type = 'connection' AND created.event_type = 'ConnectionCreated'
ON CONFLICT (connection_id) DO NOTHING;
