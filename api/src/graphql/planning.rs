//! Production-planning demand: `planningDemand`, read from the `planning_demand` views
//! (`projections::planning_demand`, contract in docs/read-models.md) for the caller's account.

use application::access::Operation;
use application::AppError;
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::NaiveDate;
use projections::planning_demand::{self, DemandQuery};
use rust_decimal::Decimal;

use super::errors::{invalid, GqlResult};
use super::query::{caller, use_cases};

/// The longest range `planningDemand` accepts, in days, both ends included.
pub const MAX_DEMAND_DAYS: i64 = 366;

/// The most item ids `planningDemand` accepts.
pub const MAX_DEMAND_ITEMS: usize = 500;

/// Demand of one item on one delivery day.
#[derive(Debug, Clone, SimpleObject)]
pub struct DemandBucket {
    /// The PrepStation item.
    pub item_id: ID,
    /// The delivery day, in the account's time zone.
    pub day: NaiveDate,
    /// Quantity in the item's unit: line quantity × line unit factor (line unit to the
    /// product's unit, as Odoo defined it at import) × mapping factor, summed.
    pub quantity: Decimal,
    /// The item's unit.
    pub unit: String,
    /// Orders contributing.
    pub order_count: i64,
}

impl From<planning_demand::DemandBucket> for DemandBucket {
    fn from(bucket: planning_demand::DemandBucket) -> Self {
        Self {
            item_id: ID(bucket.item_id),
            day: bucket.day,
            quantity: bucket.quantity,
            unit: bucket.unit,
            order_count: bucket.order_count,
        }
    }
}

/// Production-planning demand over a range of delivery days.
#[derive(Debug, Clone, SimpleObject)]
pub struct PlanningDemand {
    /// Demand per item and day, by day then item.
    pub buckets: Vec<DemandBucket>,
    /// Product lines in the range whose product has no item: not counted. Counted whatever
    /// `itemIds` asks for, since they belong to no item yet.
    pub unmapped_lines: i64,
    /// Lines of the asked items in the range whose unit does not convert to their product's
    /// unit (unit data missing, or units Odoo does not convert): not counted, never guessed.
    pub unconverted_lines: i64,
}

impl From<planning_demand::Demand> for PlanningDemand {
    fn from(demand: planning_demand::Demand) -> Self {
        Self {
            buckets: demand.buckets.into_iter().map(Into::into).collect(),
            unmapped_lines: demand.unmapped_lines,
            unconverted_lines: demand.unconverted_lines,
        }
    }
}

/// Checks that `to` is on or after `from` and at most [`MAX_DEMAND_DAYS`] days span them.
fn check_range(from: NaiveDate, to: NaiveDate) -> Result<()> {
    if to < from {
        return Err(invalid("to", "must be on or after from"));
    }
    if (to - from).num_days() >= MAX_DEMAND_DAYS {
        return Err(invalid(
            "to",
            format!("may be at most {MAX_DEMAND_DAYS} days from from, both included; ask in parts"),
        ));
    }
    Ok(())
}

/// The item ids as text, at most [`MAX_DEMAND_ITEMS`] of them.
fn item_filter(item_ids: Option<Vec<ID>>) -> Result<Option<Vec<String>>> {
    match item_ids {
        Some(ids) if ids.len() > MAX_DEMAND_ITEMS => Err(invalid(
            "itemIds",
            format!("must hold at most {MAX_DEMAND_ITEMS} ids; ask in parts"),
        )),
        ids => Ok(ids.map(|ids| ids.into_iter().map(|id| id.0).collect())),
    }
}

/// Queries on production-planning demand.
#[derive(Debug, Default)]
pub struct PlanningQuery;

#[Object]
impl PlanningQuery {
    /// Demand for production planning from confirmed and done orders in scope, by delivery
    /// day (`from` to `to`, both included, at most 366 days) and item; `itemIds` narrows it
    /// to these items (at most 500). The mapping is applied as it stands now; the orders are
    /// as fresh as the `sales_records` projection (see `projections`).
    #[graphql(complexity = 100)]
    async fn planning_demand(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
        item_ids: Option<Vec<ID>>,
    ) -> Result<PlanningDemand> {
        let caller = caller(ctx)?;
        caller.require(Operation::ReadPlanning).gql()?;
        check_range(from, to)?;
        let query = DemandQuery {
            account_id: caller.account_id.to_string(),
            from,
            to,
            item_ids: item_filter(item_ids)?,
        };

        let pool = &use_cases(ctx)?.read_models.pool;
        let demand = planning_demand::read(pool, &query)
            .await
            .map_err(AppError::internal)
            .gql()?;
        Ok(demand.into())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_range_of_366_days_is_accepted_and_one_of_367_is_not() {
        assert!(check_range(day("2024-01-01"), day("2024-12-31")).is_ok());
        assert!(check_range(day("2026-01-01"), day("2027-01-01")).is_ok());
        assert!(check_range(day("2026-03-01"), day("2026-03-01")).is_ok());
        assert!(check_range(day("2024-01-01"), day("2025-01-01")).is_err());
        assert!(check_range(day("2026-01-01"), day("2027-01-02")).is_err());
        assert!(check_range(day("2026-03-02"), day("2026-03-01")).is_err());
    }
}
