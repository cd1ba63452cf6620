//! The `planning_demand` read model: production-planning demand per item and delivery day.
//!
//! It has no tables and no checkpoint of its own. The SQL views `planning_demand_lines` and
//! `planning_demand` (migrations `..._projections.sql` and `..._planning_demand.sql`) read the
//! `sales_records` projection's tables and the product mapping at query time, so a mapping
//! change shows at once and the demand is exactly as fresh as Sales Records: its position and
//! lag are those of `sales_records`, and rebuilding it means replaying `sales_records`. The
//! views are a contract for the planning service, stated in `docs/read-models.md`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgPool;

/// The read model's name, as `projections { name }` lists it.
pub const NAME: &str = "planning_demand";

/// The projection whose tables the views read.
pub const READS: &str = "sales_records";

/// Which demand to read: one account's delivery days `from` to `to`, both included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemandQuery {
    /// The account.
    pub account_id: String,
    /// The first delivery day.
    pub from: NaiveDate,
    /// The last delivery day.
    pub to: NaiveDate,
    /// Only these items; all when `None`.
    pub item_ids: Option<Vec<String>>,
}

/// Demand of one item on one delivery day, in the item's unit.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DemandBucket {
    /// The PrepStation item.
    pub item_id: String,
    /// The delivery day in the account's time zone.
    pub day: NaiveDate,
    /// Line quantity × line unit factor × mapping factor, summed.
    pub quantity: Decimal,
    /// The item's unit.
    pub unit: String,
    /// The orders contributing.
    pub order_count: i64,
}

/// The demand over a range, with the lines it could not count.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Demand {
    /// Per item and day, by day then item.
    pub buckets: Vec<DemandBucket>,
    /// Product lines in the range whose product has no item (whatever `item_ids` says).
    pub unmapped_lines: i64,
    /// Lines of the asked items in the range whose unit does not convert to the product's.
    pub unconverted_lines: i64,
}

/// Reads the demand and its uncounted lines from one snapshot, so they always agree.
pub async fn read(pool: &PgPool, query: &DemandQuery) -> Result<Demand, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;

    let buckets: Vec<DemandBucket> = sqlx::query_as(
        "SELECT item_id, day, quantity, unit, order_count FROM planning_demand
          WHERE account_id = $1 AND day BETWEEN $2 AND $3
            AND ($4::text[] IS NULL OR item_id = ANY($4))
          ORDER BY day, item_id",
    )
    .bind(&query.account_id)
    .bind(query.from)
    .bind(query.to)
    .bind(&query.item_ids)
    .fetch_all(&mut *tx)
    .await?;

    let (unmapped_lines, unconverted_lines): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE item_id IS NULL),
                count(*) FILTER (WHERE item_id IS NOT NULL AND item_quantity IS NULL
                                 AND ($4::text[] IS NULL OR item_id = ANY($4)))
           FROM planning_demand_lines
          WHERE account_id = $1 AND day BETWEEN $2 AND $3",
    )
    .bind(&query.account_id)
    .bind(query.from)
    .bind(query.to)
    .bind(&query.item_ids)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;

    Ok(Demand {
        buckets,
        unmapped_lines,
        unconverted_lines,
    })
}
