-- Planning demand, as the planning service reads it: the views of `..._projections.sql` with
-- columns added at the end (existing columns keep their names, types and order; see
-- docs/read-models.md). Added: the order number and the line's and product's unit names, so
-- that a line that is not counted can be shown with its reason, and each bucket's line count.

CREATE OR REPLACE VIEW planning_demand_lines AS
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
       l.quantity * l.unit_factor * m.factor   AS item_quantity,
       r.order_number,
       l.unit_name                             AS line_unit,
       l.product_unit_name                     AS product_unit
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

CREATE OR REPLACE VIEW planning_demand AS
SELECT account_id,
       item_id,
       day,
       sum(item_quantity)        AS quantity,
       unit,
       count(DISTINCT record_id) AS order_count,
       count(*)                  AS line_count
  FROM planning_demand_lines
 WHERE item_quantity IS NOT NULL AND day IS NOT NULL
 GROUP BY account_id, item_id, day, unit;
