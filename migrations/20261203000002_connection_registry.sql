-- Which connections each account holds and which Odoo source each reads, maintained inside
-- the transaction that writes the connection's events. The partial unique index makes a
-- second live connection to the same source impossible, whatever races between replicas. It
-- indexes a digest of the source, since a URL and database together can exceed what a btree
-- entry holds.
CREATE TABLE connection_registry (
    connection_id text        PRIMARY KEY,
    account_id    text        NOT NULL,
    source_key    text        NOT NULL,
    source_digest text        GENERATED ALWAYS AS (md5(source_key)) STORED,
    deleted       boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX connection_registry_live_source
    ON connection_registry (account_id, source_digest) WHERE NOT deleted;
CREATE INDEX connection_registry_by_account ON connection_registry (account_id, created_at);

CREATE FUNCTION connection_registry_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.event_type = 'ConnectionCreated' THEN
        INSERT INTO connection_registry (connection_id, account_id, source_key)
        VALUES (NEW.aggregate_id, NEW.account_id, NEW.payload ->> 'source');
    ELSIF NEW.event_type = 'ConnectionSettingsChanged' THEN
        UPDATE connection_registry SET source_key = NEW.payload ->> 'source'
         WHERE connection_id = NEW.aggregate_id;
    ELSIF NEW.event_type = 'ConnectionDeleted' THEN
        UPDATE connection_registry SET deleted = true WHERE connection_id = NEW.aggregate_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER connection_registry_follow
    AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.aggregate_type = 'connection')
    EXECUTE FUNCTION connection_registry_follow();
