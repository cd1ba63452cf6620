-- Where each projection stands in the global event order, and what the projections keep of
-- other aggregates. A projection applies a batch and moves its checkpoint in one transaction
-- that holds this row's lock, so replicas running the same projection take turns.

CREATE TABLE projection_checkpoints (
    name           text        PRIMARY KEY,
    -- The last applied event's writing transaction and global position (0, 0: none yet).
    transaction_id bigint      NOT NULL DEFAULT 0,
    position       bigint      NOT NULL DEFAULT 0,
    -- When the last applied event was recorded.
    last_event_at  timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Each account's time zone as the `sales_records` projection last saw it (UTC until set), so
-- delivery days are computed in it and recomputed when it changes.
CREATE TABLE projection_account_zones (
    account_id text PRIMARY KEY,
    time_zone  text NOT NULL
);
