//! The change feeds of an Odoo source: every order changed at or after a cursor, or every
//! order whose lines changed (a line's text can change without moving its order), in the
//! order Odoo stamped them, whatever the scope (orders already held are followed wherever
//! they go), each marked with whether it is in the connection's scope.
//!
//! Odoo prints `write_date` truncated to the second while storing microseconds, so many
//! orders share one printed second and their order within it is not their id order. A page
//! therefore first finishes the cursor's second by id (`S <= write_date < S+1s`, `id > last`),
//! then reads later seconds by `write_date, id`; a full page's last second is left for the
//! next page to read by id from its start. Both comparisons mean the same on 18 (stored
//! microseconds) and 19 (whole seconds).

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;

use application::ports::ProbeTarget;
use application::sync::{Feed, FeedPage, OrderFeed, OrderFeeds};
use async_trait::async_trait;
use chrono::{Duration, NaiveDateTime};
use domain::sales_order::{Observation, ObservedOrder};
use domain::sync_run::{RunFailure, SyncCursor};
use odoo_client::models::{OrderLine, SalesOrder, UnitDefinition};
use odoo_client::{
    ClientOptions, Condition, Domain, DomainValue, OdooError, OdooServer, OdooSession, Operator,
    SearchRead,
};

use super::orders::{imported_order, Catalog};
use super::scope::import_scope;
use super::{protocol, user_message};

/// Opens feeds with the Odoo client.
#[derive(Debug, Clone)]
pub struct OdooOrderFeeds {
    options: ClientOptions,
}

impl OdooOrderFeeds {
    /// Feeds with these client options.
    pub fn new(options: ClientOptions) -> Self {
        Self { options }
    }
}

#[async_trait]
impl OrderFeeds for OdooOrderFeeds {
    async fn open(&self, target: ProbeTarget) -> Result<Box<dyn OrderFeed>, RunFailure> {
        let settings = &target.settings;
        let server = OdooServer::connect(
            settings.url.as_str(),
            protocol(settings.protocol),
            &self.options,
        )
        .await
        .map_err(failure)?;
        let session = server
            .authenticate(
                settings.database.as_str(),
                settings.username.as_str(),
                target.api_key.clone(),
            )
            .await
            .map_err(failure)?;
        let filter = match &settings.domain_filter {
            Some(text) => Some(Domain::parse(text.as_str()).map_err(|e| failure(e.into()))?),
            None => None,
        };
        let scope = import_scope(
            session.version(),
            filter.as_ref(),
            settings.order_dates,
            target.time_zone.tz(),
        );
        Ok(Box::new(OdooOrderFeed {
            session,
            scope,
            catalog: Catalog::default(),
        }))
    }
}

struct OdooOrderFeed {
    session: OdooSession,
    scope: Domain,
    catalog: Catalog,
}

/// A record of a feed with the place it gives in that feed.
struct Stamped {
    cursor: Option<SyncCursor>,
    order_id: i64,
    order: Option<SalesOrder>,
}

#[async_trait]
impl OrderFeed for OdooOrderFeed {
    async fn next_page(
        &mut self,
        feed: Feed,
        from: SyncCursor,
        limit: u16,
    ) -> Result<FeedPage, RunFailure> {
        let (stamped, next, exhausted) = self.changed(feed, from, limit).await.map_err(failure)?;
        let orders = match feed {
            Feed::Orders => stamped.into_iter().filter_map(|s| s.order).collect(),
            Feed::Lines => {
                let ids: Vec<i64> = unique(stamped.iter().map(|s| s.order_id)).collect();
                self.orders_by_id(&ids).await.map_err(failure)?
            }
        };
        let observed = self.observe(orders).await.map_err(failure)?;
        Ok(FeedPage {
            orders: observed,
            next,
            exhausted,
        })
    }

    async fn existing(&mut self, ids: &[i64]) -> Result<Vec<i64>, RunFailure> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let values = ids
            .iter()
            .map(|id| DomainValue::Int(*id))
            .collect::<Vec<_>>();
        let domain = Domain::all(vec![Condition::new("id", Operator::In, values)]);
        let limit = NonZeroU32::new(u32::try_from(ids.len()).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN);
        let query = SearchRead::new("sale.order", domain, &[], limit);
        self.session.search(&query).await.map_err(failure)
    }
}

impl OdooOrderFeed {
    /// Up to `limit` records of the feed changed at or after `from`, the cursor after them and
    /// whether nothing more changed.
    async fn changed(
        &self,
        feed: Feed,
        from: SyncCursor,
        limit: u16,
    ) -> Result<(Vec<Stamped>, SyncCursor, bool), OdooError> {
        let limit = usize::from(limit.max(1));
        let second_end = from.second + Duration::seconds(1);
        let bucket = Domain::all(vec![
            Condition::new("write_date", Operator::Ge, odoo_time(from.second).as_str()),
            Condition::new("write_date", Operator::Lt, odoo_time(second_end).as_str()),
            Condition::new("id", Operator::Gt, from.last_id),
        ]);
        let mut records = self.fetch(feed, bucket, "id asc", limit).await?;
        if records.len() == limit {
            let last_id = records
                .last()
                .and_then(|r| r.cursor)
                .map_or(from.last_id, |c| c.last_id);
            return Ok((
                records,
                SyncCursor {
                    second: from.second,
                    last_id,
                },
                false,
            ));
        }

        let room = limit - records.len();
        let later = Domain::all(vec![Condition::new(
            "write_date",
            Operator::Ge,
            odoo_time(second_end).as_str(),
        )]);
        let mut after = self
            .fetch(feed, later, "write_date asc, id asc", room)
            .await?;
        if after.len() < room {
            let next = after
                .iter()
                .chain(records.iter())
                .filter_map(|r| r.cursor)
                .max()
                .unwrap_or(from);
            records.append(&mut after);
            return Ok((records, next, true));
        }

        let last_second = after
            .iter()
            .filter_map(|r| r.cursor)
            .map(|c| c.second)
            .max()
            .unwrap_or(second_end);
        after.retain(|r| r.cursor.is_some_and(|c| c.second < last_second));
        records.append(&mut after);
        Ok((
            records,
            SyncCursor {
                second: last_second,
                last_id: 0,
            },
            false,
        ))
    }

    async fn fetch(
        &self,
        feed: Feed,
        domain: Domain,
        order: &str,
        limit: usize,
    ) -> Result<Vec<Stamped>, OdooError> {
        let limit =
            NonZeroU32::new(u32::try_from(limit).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN);
        match feed {
            Feed::Orders => {
                let orders = self.session.sales_orders(domain, order, limit, 0).await?;
                Ok(orders
                    .into_iter()
                    .map(|o| Stamped {
                        cursor: stamp(o.id, o.write_date),
                        order_id: o.id,
                        order: Some(o),
                    })
                    .collect())
            }
            Feed::Lines => {
                let query = SearchRead::new(
                    "sale.order.line",
                    domain,
                    &["order_id", "write_date"],
                    limit,
                )
                .order_by(order);
                let records = self.session.search_read(&query).await?;
                records.iter().map(line_stamp).collect()
            }
        }
    }

    async fn orders_by_id(&self, ids: &[i64]) -> Result<Vec<SalesOrder>, OdooError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let values = ids
            .iter()
            .map(|id| DomainValue::Int(*id))
            .collect::<Vec<_>>();
        let domain = Domain::all(vec![Condition::new("id", Operator::In, values)]);
        let limit = NonZeroU32::new(u32::try_from(ids.len()).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN);
        self.session.sales_orders(domain, "id asc", limit, 0).await
    }

    async fn observe(&mut self, orders: Vec<SalesOrder>) -> Result<Vec<ObservedOrder>, OdooError> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let line_ids: Vec<i64> = orders
            .iter()
            .flat_map(|o| o.line_ids.iter().copied())
            .collect();
        let lines = self.lines(&line_ids).await?;
        self.learn_catalog(&lines).await?;
        let in_scope = self.in_scope(&orders).await?;

        let by_id: HashMap<i64, &OrderLine> = lines.iter().map(|l| (l.id, l)).collect();
        Ok(orders
            .iter()
            .map(|order| {
                let lines: Vec<&OrderLine> = order
                    .line_ids
                    .iter()
                    .filter_map(|id| by_id.get(id).copied())
                    .collect();
                let imported = imported_order(order, &lines, &self.catalog);
                ObservedOrder {
                    source_order_id: order.id,
                    observation: Observation::Read {
                        order: Box::new(imported),
                        in_scope: in_scope.contains(&order.id),
                    },
                }
            })
            .collect())
    }

    async fn lines(&self, ids: &[i64]) -> Result<Vec<OrderLine>, OdooError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.session.order_lines(ids).await
    }

    /// Reads the products and units not seen before, with the units 19 defines them by.
    async fn learn_catalog(&mut self, lines: &[OrderLine]) -> Result<(), OdooError> {
        let products: Vec<i64> = unique(
            lines
                .iter()
                .filter_map(|l| l.product.as_ref().map(|p| p.id)),
        )
        .filter(|id| !self.catalog.products.contains_key(id))
        .collect();
        if !products.is_empty() {
            for product in self.session.products(&products).await? {
                self.catalog.products.insert(product.id, product);
            }
        }
        let mut wanted: Vec<i64> = lines
            .iter()
            .filter_map(|l| l.unit.as_ref().map(|u| u.id))
            .chain(
                self.catalog
                    .products
                    .values()
                    .filter_map(|p| p.unit.as_ref().map(|u| u.id)),
            )
            .collect();
        for _ in 0..8 {
            wanted = unique(wanted.into_iter())
                .filter(|id| !self.catalog.units.contains_key(id))
                .collect();
            if wanted.is_empty() {
                break;
            }
            let units = self.session.units(&wanted).await?;
            wanted = units.iter().filter_map(parent_unit).collect();
            for unit in units {
                self.catalog.units.insert(unit.id, unit);
            }
        }
        Ok(())
    }

    async fn in_scope(&self, orders: &[SalesOrder]) -> Result<HashSet<i64>, OdooError> {
        let ids: Vec<DomainValue> = orders.iter().map(|o| DomainValue::Int(o.id)).collect();
        let page = Domain::all(vec![Condition::new("id", Operator::In, ids)]);
        let limit = NonZeroU32::new(u32::try_from(orders.len()).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN);
        let query = SearchRead::new("sale.order", self.scope.and(&page), &[], limit);
        Ok(self.session.search(&query).await?.into_iter().collect())
    }
}

fn parent_unit(unit: &odoo_client::models::Unit) -> Option<i64> {
    match &unit.definition {
        UnitDefinition::Relative {
            relative_to: Some(parent),
            ..
        } => Some(parent.id),
        _ => None,
    }
}

fn unique(ids: impl Iterator<Item = i64>) -> impl Iterator<Item = i64> {
    let mut seen = HashSet::new();
    ids.filter(move |id| seen.insert(*id))
}

fn stamp(id: i64, write_date: Option<chrono::DateTime<chrono::Utc>>) -> Option<SyncCursor> {
    write_date.map(|at| SyncCursor {
        second: at.naive_utc(),
        last_id: id,
    })
}

fn line_stamp(record: &odoo_client::record::Record) -> Result<Stamped, OdooError> {
    let id = record.id()?;
    let order = record.many2one("order_id")?;
    Ok(Stamped {
        cursor: stamp(id, record.datetime("write_date")?),
        order_id: order.map_or(0, |o| o.id),
        order: None,
    })
}

fn odoo_time(moment: NaiveDateTime) -> String {
    moment.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn failure(error: OdooError) -> RunFailure {
    RunFailure {
        code: error.code().to_owned(),
        message: user_message(&error),
        hint: Some(error.hint().to_owned()),
    }
}
