-- State the sync engine keeps beside the events it writes, updated in the same transaction:
-- what is held of each order (so a batch decides without replaying order streams), each
-- run's lifecycle and stream position, and where reading each source continues.

CREATE TABLE held_orders (
    account_id      text    NOT NULL,
    source_digest   text    NOT NULL,
    source_order_id bigint  NOT NULL,
    aggregate_id    text    NOT NULL UNIQUE,
    sequence        bigint  NOT NULL,
    fingerprint     text    NOT NULL,
    status          text    NOT NULL,
    in_scope        boolean NOT NULL,
    removed         boolean NOT NULL,
    connection_id   text    NOT NULL,
    last_run_id     text    NOT NULL,
    PRIMARY KEY (account_id, source_digest, source_order_id)
);

CREATE TABLE sync_runs (
    run_id        text        PRIMARY KEY,
    account_id    text        NOT NULL,
    connection_id text        NOT NULL,
    source_digest text        NOT NULL,
    status        text        NOT NULL,
    sequence      bigint      NOT NULL,
    requested_at  timestamptz NOT NULL,
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    cancel_requested boolean  NOT NULL DEFAULT false,
    state         jsonb       NOT NULL DEFAULT '{}',
    finished_at   timestamptz
);

-- `state` is the run's aggregate state after its last event, kept in the same transaction,
-- so lists and batches never replay a run's stream.
CREATE INDEX sync_runs_by_connection ON sync_runs (account_id, connection_id, requested_at DESC, run_id DESC);

-- One unfinished run per connection, whatever races between replicas. A run whose worker
-- stopped recording (heartbeat_at) for too long is closed as interrupted when the next is
-- asked for.
CREATE UNIQUE INDEX sync_runs_one_active_per_connection
    ON sync_runs (connection_id) WHERE status IN ('PENDING', 'RUNNING');

-- Where reading each source continues, per feed: `orders` (by the orders' write_date) and
-- `lines` (by the lines' write_date, for edits that move only a line).
CREATE TABLE sync_cursors (
    account_id    text      NOT NULL,
    source_digest text      NOT NULL,
    feed          text      NOT NULL CHECK (feed IN ('orders', 'lines')),
    second        timestamp NOT NULL,
    last_id       bigint    NOT NULL,
    PRIMARY KEY (account_id, source_digest, feed)
);

-- When the held orders of each source were last checked against it for deletions.
CREATE TABLE sync_reconciliations (
    account_id    text        NOT NULL,
    source_digest text        NOT NULL,
    reconciled_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, source_digest)
);
