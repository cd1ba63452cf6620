-- The audit history of each connection, written by the `sync_history` projection: one row per
-- event of the connection's own stream, of its sync runs, of the order events those runs
-- recorded and of the product mappings made through it or by its runs. See
-- docs/read-models.md, "Audit history".
--
-- A row holds a short summary built from chosen fields of the event, never the payload itself:
-- sealed API keys and other credentials never reach this table.

CREATE TABLE sync_history (
    -- The event's global position; an event belongs to at most one connection.
    position       bigint      PRIMARY KEY,
    -- The event's writing transaction: rows are listed by (transaction_id, position), the
    -- order the event log hands them out in.
    transaction_id bigint      NOT NULL,
    account_id     text        NOT NULL,
    connection_id  text        NOT NULL,
    -- The run the event belongs to; NULL for the connection's own events and mappings made
    -- by hand.
    run_id         text,
    recorded_at    timestamptz NOT NULL,
    -- The token subject, `scheduler` or `system`, from the event's metadata.
    actor          text        NOT NULL,
    -- The stream the event belongs to: `connection`, `sync_run`, `sales_order` or
    -- `product_mapping`, and its id.
    stream_type    text        NOT NULL,
    stream_id      text        NOT NULL,
    -- The stable event type, e.g. `SyncStarted`.
    event_type     text        NOT NULL,
    summary        text        NOT NULL
);

CREATE INDEX sync_history_by_connection
    ON sync_history (account_id, connection_id, transaction_id, position);

-- Each run the projection has seen requested: its connection (only `SyncRequested` names it)
-- and the correlation id its events share, by which mappings made by SKU at the end of a run
-- are told apart from those made by an item upsert; open until the run ends.
CREATE TABLE sync_history_runs (
    run_id             text    PRIMARY KEY,
    account_id         text    NOT NULL,
    connection_id      text    NOT NULL,
    correlation_id     text    NOT NULL,
    requested_position bigint  NOT NULL,
    open               boolean NOT NULL
);

CREATE INDEX sync_history_runs_by_correlation ON sync_history_runs (account_id, correlation_id);
