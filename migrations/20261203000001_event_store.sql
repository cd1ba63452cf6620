-- The event store. postgres-es writes the first seven columns; the rest give every event a
-- global position, the transaction that wrote it and its account.
--
-- Readers of the global order page by (transaction_id, global_position) and only read rows
-- whose transaction is older than every transaction still running
-- (pg_snapshot_xmin(pg_current_snapshot())). A writer that commits late always has a
-- transaction id at or above that horizon, so its events appear after everything already
-- read, never behind a reader's checkpoint.
CREATE TABLE events (
    aggregate_type  text        NOT NULL,
    aggregate_id    text        NOT NULL,
    sequence        bigint      NOT NULL CHECK (sequence >= 0),
    event_type      text        NOT NULL,
    event_version   text        NOT NULL,
    payload         jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    global_position bigint      GENERATED ALWAYS AS IDENTITY,
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    account_id      text        GENERATED ALWAYS AS (metadata ->> 'account_id') STORED NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence),
    CONSTRAINT events_metadata_complete CHECK (
        metadata ? 'actor' AND metadata ? 'correlation_id' AND metadata ? 'recorded_at'
    )
);

CREATE UNIQUE INDEX events_global_order ON events (transaction_id, global_position);
CREATE UNIQUE INDEX events_global_position ON events (global_position);
CREATE INDEX events_by_account ON events (account_id, global_position);
