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

-- The products each source's synced lines name, as last seen, for mapping by SKU when items
-- arrive after the products.
CREATE TABLE source_products (
    account_id         text   NOT NULL,
    source_digest      text   NOT NULL,
    odoo_product_id    bigint NOT NULL,
    name               text   NOT NULL,
    internal_reference text,
    barcode            text,
    last_run_id        text   NOT NULL,
    PRIMARY KEY (account_id, source_digest, odoo_product_id)
);

CREATE INDEX source_products_by_reference
    ON source_products (account_id, internal_reference) WHERE internal_reference IS NOT NULL;
CREATE INDEX source_products_by_barcode
    ON source_products (account_id, barcode) WHERE barcode IS NOT NULL;
CREATE INDEX source_products_by_run ON source_products (last_run_id);

-- The product lines of each held order that counts for planning (in scope, not cancelled,
-- not removed), per product: what a finishing run counts as unmapped.
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
