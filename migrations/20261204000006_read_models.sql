-- The tables the read side shares: Sales Records and their lines (written by the
-- `sales_records` projection from the order events), and PrepStation items with the mapping
-- of Odoo products to them (written by the mapping use cases beside their events). Planning
-- demand and the unmapped-products list are computed from these four.
--
-- An order is identified by its account, its source (`SourceKey::digest()`, 32 hex
-- characters) and Odoo's order id; `record_id` is its event stream's id
-- (`account:source_digest:odoo_order_id`).

CREATE TABLE sales_records (
    record_id          text        PRIMARY KEY,
    account_id         text        NOT NULL,
    source_digest      text        NOT NULL,
    source_order_id    bigint      NOT NULL,
    connection_id      text        NOT NULL,
    last_sync_run_id   text        NOT NULL,
    order_number       text        NOT NULL,
    order_date         timestamptz,
    customer_id        bigint,
    customer_name      text,
    customer_reference text,
    status             text        NOT NULL
        CHECK (status IN ('QUOTATION', 'CONFIRMED', 'DONE', 'CANCELLED', 'REMOVED')),
    in_scope           boolean     NOT NULL,
    source_state       text        NOT NULL,
    locked             boolean     NOT NULL,
    commitment_date    timestamptz,
    expected_date      timestamptz,
    delivery_date      timestamptz GENERATED ALWAYS AS (coalesce(commitment_date, expected_date)) STORED,
    -- The delivery date as a day in the account's time zone, kept by the projection.
    delivery_day       date,
    currency           text,
    amount_untaxed     numeric,
    amount_total       numeric     NOT NULL,
    company_id         bigint,
    company_name       text,
    -- The global position of the last event applied to this record.
    event_position     bigint      NOT NULL,
    updated_at         timestamptz NOT NULL,
    UNIQUE (account_id, source_digest, source_order_id)
);

CREATE INDEX sales_records_by_order_date
    ON sales_records (account_id, order_date DESC NULLS LAST, order_number);
CREATE INDEX sales_records_by_delivery_day ON sales_records (account_id, delivery_day);

CREATE TABLE sales_record_lines (
    record_id          text    NOT NULL REFERENCES sales_records ON DELETE CASCADE,
    source_line_id     bigint  NOT NULL,
    account_id         text    NOT NULL,
    source_digest      text    NOT NULL,
    -- The line's place in the order, from 0.
    position           integer NOT NULL,
    kind               text    NOT NULL CHECK (kind IN ('PRODUCT', 'SECTION', 'NOTE')),
    product_id         bigint,
    product_name       text,
    internal_reference text,
    barcode            text,
    description        text    NOT NULL,
    -- In the line's unit of measure.
    quantity           numeric NOT NULL,
    unit_id            bigint,
    unit_name          text,
    product_unit_id    bigint,
    product_unit_name  text,
    -- Product units per line unit as Odoo defined it at import; NULL when not convertible.
    unit_factor        numeric,
    unit_price         numeric NOT NULL,
    discount           numeric NOT NULL,
    subtotal           numeric NOT NULL,
    PRIMARY KEY (record_id, source_line_id)
);

CREATE INDEX sales_record_lines_by_product
    ON sales_record_lines (account_id, source_digest, product_id) WHERE kind = 'PRODUCT';

-- What a kitchen produces, as PrepStation knows it; ids are PrepStation's.
CREATE TABLE items (
    account_id text        NOT NULL,
    item_id    text        NOT NULL,
    name       text        NOT NULL,
    sku        text,
    unit       text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, item_id)
);

CREATE INDEX items_by_sku ON items (account_id, sku) WHERE sku IS NOT NULL;

-- Which item an Odoo product of a source stands for, and how many item units one unit of the
-- product's own unit of measure makes.
CREATE TABLE product_mappings (
    account_id      text        NOT NULL,
    source_digest   text        NOT NULL,
    odoo_product_id bigint      NOT NULL,
    item_id         text        NOT NULL,
    factor          numeric     NOT NULL DEFAULT 1 CHECK (factor > 0),
    -- MANUAL: mapped by a person; SKU: mapped because the product's internal reference or
    -- barcode equals the item's SKU.
    origin          text        NOT NULL CHECK (origin IN ('MANUAL', 'SKU')),
    mapped_at       timestamptz NOT NULL,
    PRIMARY KEY (account_id, source_digest, odoo_product_id),
    FOREIGN KEY (account_id, item_id) REFERENCES items (account_id, item_id)
);

CREATE INDEX product_mappings_by_item ON product_mappings (account_id, item_id);
