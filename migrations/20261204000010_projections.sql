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

-- Production-planning demand, joined with the product mapping at read time so that a mapping
-- change shows without a new sync. Stable for the planning service: columns are only ever
-- added. See docs/read-models.md.
--
-- One row per product line of a confirmed or done order in scope, with its item (NULL while
-- unmapped) and its quantity in item units (NULL while unmapped or not convertible).
CREATE VIEW planning_demand_lines AS
SELECT r.account_id,
       r.record_id,
       l.source_line_id,
       r.delivery_day                          AS day,
       r.source_digest,
       l.product_id,
       m.item_id,
       i.unit,
       l.quantity,
       l.unit_factor,
       m.factor,
       l.quantity * l.unit_factor * m.factor   AS item_quantity
  FROM sales_records r
  JOIN sales_record_lines l ON l.record_id = r.record_id
  LEFT JOIN product_mappings m
         ON m.account_id = l.account_id AND m.source_digest = l.source_digest
        AND m.odoo_product_id = l.product_id
  LEFT JOIN items i ON i.account_id = m.account_id AND i.item_id = m.item_id
 WHERE r.status IN ('CONFIRMED', 'DONE')
   AND r.in_scope
   AND l.kind = 'PRODUCT'
   AND l.product_id IS NOT NULL;

-- Demand per account, item and delivery day (in the account's time zone), in item units.
CREATE VIEW planning_demand AS
SELECT account_id,
       item_id,
       day,
       sum(item_quantity)        AS quantity,
       unit,
       count(DISTINCT record_id) AS order_count
  FROM planning_demand_lines
 WHERE item_quantity IS NOT NULL AND day IS NOT NULL
 GROUP BY account_id, item_id, day, unit;
