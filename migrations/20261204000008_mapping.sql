-- What items and product mapping keep beside their events (`item` and `product_mapping`
-- streams), and what the sync keeps so that a run can tell which product lines of its scope
-- are unmapped without replaying order streams. All written in the transactions that write
-- the events.

-- An SKU names one item of an account: automatic mapping by SKU must not have to choose.
CREATE UNIQUE INDEX items_one_per_sku ON items (account_id, sku) WHERE sku IS NOT NULL;
CREATE INDEX items_by_name ON items (account_id, lower(name), item_id);

-- Products a person unmapped (and nobody mapped since): automatic mapping leaves them alone.
CREATE TABLE products_unmapped_by_hand (
    account_id      text        NOT NULL,
    source_digest   text        NOT NULL,
    odoo_product_id bigint      NOT NULL,
    unmapped_at     timestamptz NOT NULL,
    PRIMARY KEY (account_id, source_digest, odoo_product_id)
);

-- The products each source's synced lines name: as last seen (for mapping by SKU when items
-- arrive after the products), and how many product lines and orders held in scope name each
-- (what a finishing run counts as unmapped and `unmappedProducts` lists). The totals have
-- no CHECK: PostgreSQL checks a row proposed by INSERT ... ON CONFLICT before it adds a
-- batch's (possibly negative) change to the stored totals.
CREATE TABLE source_products (
    account_id         text   NOT NULL,
    source_digest      text   NOT NULL,
    odoo_product_id    bigint NOT NULL,
    name               text,
    internal_reference text,
    barcode            text,
    last_run_id        text,
    line_count         bigint NOT NULL DEFAULT 0,
    order_count        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, source_digest, odoo_product_id)
);

CREATE INDEX source_products_by_reference
    ON source_products (account_id, internal_reference) WHERE internal_reference IS NOT NULL;
CREATE INDEX source_products_by_barcode
    ON source_products (account_id, barcode) WHERE barcode IS NOT NULL;

-- The product lines of each held order that counts for planning (in scope, not cancelled,
-- not removed), per product, so a changed order's old lines can be taken out of the totals.
CREATE TABLE held_order_products (
    account_id      text    NOT NULL,
    source_digest   text    NOT NULL,
    source_order_id bigint  NOT NULL,
    odoo_product_id bigint  NOT NULL,
    line_count      integer NOT NULL CHECK (line_count > 0),
    PRIMARY KEY (account_id, source_digest, source_order_id, odoo_product_id)
);

CREATE INDEX held_order_products_by_product
    ON held_order_products (account_id, source_digest, odoo_product_id);

-- Which products were unmapped when each run ended RESOLUTION_REQUIRED; mapping the last of
-- them resolves the run.
CREATE TABLE sync_run_unmapped_products (
    run_id          text    NOT NULL,
    account_id      text    NOT NULL,
    source_digest   text    NOT NULL,
    odoo_product_id bigint  NOT NULL,
    line_count      bigint  NOT NULL,
    PRIMARY KEY (run_id, odoo_product_id)
);

CREATE INDEX sync_run_unmapped_products_by_product
    ON sync_run_unmapped_products (account_id, source_digest, odoo_product_id);

-- Backfill: the product lines of orders held before this migration, from the last event of
-- each order that carries its content, and the products' totals and descriptions.
INSERT INTO held_order_products (account_id, source_digest, source_order_id, odoo_product_id, line_count)
SELECT h.account_id, h.source_digest, h.source_order_id, (line -> 'product' ->> 'id')::bigint, count(*)
  FROM held_orders h
  JOIN LATERAL (SELECT e.payload FROM events e
                 WHERE e.aggregate_type = 'sales_order' AND e.aggregate_id = h.aggregate_id
                   AND e.payload ? 'order'
                 ORDER BY e.sequence DESC LIMIT 1) last ON true
 CROSS JOIN LATERAL jsonb_array_elements(last.payload -> 'order' -> 'lines') AS line
 WHERE h.in_scope AND NOT h.removed AND h.status <> 'CANCELLED'
   AND line ->> 'kind' = 'PRODUCT' AND jsonb_typeof(line -> 'product') = 'object'
 GROUP BY 1, 2, 3, 4;

INSERT INTO source_products (account_id, source_digest, odoo_product_id, name, internal_reference,
                             barcode, last_run_id, line_count, order_count)
SELECT DISTINCT ON (h.account_id, h.source_digest, p.id)
       h.account_id, h.source_digest, p.id, line -> 'product' ->> 'name',
       line -> 'product' ->> 'internal_reference', line -> 'product' ->> 'barcode',
       last.payload -> 'by' ->> 'run_id', 0, 0
  FROM held_orders h
  JOIN LATERAL (SELECT e.payload, e.global_position FROM events e
                 WHERE e.aggregate_type = 'sales_order' AND e.aggregate_id = h.aggregate_id
                   AND e.payload ? 'order'
                 ORDER BY e.sequence DESC LIMIT 1) last ON true
 CROSS JOIN LATERAL jsonb_array_elements(last.payload -> 'order' -> 'lines') AS line
 CROSS JOIN LATERAL (SELECT (line -> 'product' ->> 'id')::bigint AS id) p
 WHERE h.in_scope AND NOT h.removed AND h.status <> 'CANCELLED'
   AND line ->> 'kind' = 'PRODUCT' AND jsonb_typeof(line -> 'product') = 'object'
 ORDER BY h.account_id, h.source_digest, p.id, last.global_position DESC;

UPDATE source_products p
   SET line_count = t.lines, order_count = t.orders
  FROM (SELECT account_id, source_digest, odoo_product_id, sum(line_count) AS lines, count(*) AS orders
          FROM held_order_products GROUP BY 1, 2, 3) t
 WHERE (p.account_id, p.source_digest, p.odoo_product_id)
     = (t.account_id, t.source_digest, t.odoo_product_id);
