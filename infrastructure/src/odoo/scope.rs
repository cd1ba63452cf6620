//! Which orders a connection imports: the user's filter (or confirmed and done orders, as
//! the server's version spells them) within the order-date range, read in the account's
//! time zone and sent to Odoo as UTC bounds.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use domain::connection::OrderDateRange;
use odoo_client::{Condition, Domain, DomainValue, OdooVersion, Operator, Term};

/// The domain of orders a connection imports.
pub fn import_scope(
    version: &OdooVersion,
    filter: Option<&Domain>,
    dates: OrderDateRange,
    zone: Tz,
) -> Domain {
    let base = match filter {
        Some(filter) => filter.clone(),
        None => confirmed_orders(version),
    };
    let (from, until) = order_date_bounds(dates, zone);
    let mut bounds = Vec::new();
    if let Some(from) = from {
        bounds.push(Condition::new(
            "date_order",
            Operator::Ge,
            odoo_datetime(from).as_str(),
        ));
    }
    if let Some(until) = until {
        bounds.push(Condition::new(
            "date_order",
            Operator::Lt,
            odoo_datetime(until).as_str(),
        ));
    }
    base.and(&Domain::all(bounds))
}

/// Confirmed and done orders as this version stores them: `sale` (and `done` up to 16).
fn confirmed_orders(version: &OdooVersion) -> Domain {
    let states = version
        .confirmed_states()
        .iter()
        .map(|s| DomainValue::from(*s))
        .collect::<Vec<_>>();
    Domain::from_terms(vec![Term::Condition(Condition::new(
        "state",
        Operator::In,
        states,
    ))])
    .unwrap_or_default()
}

/// The UTC instants where the range starts (inclusive) and ends (exclusive): the first
/// moment of `from` and of the day after `to`, in the account's time zone.
pub fn order_date_bounds(
    dates: OrderDateRange,
    zone: Tz,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let from = dates.from.map(|day| start_of_day(day, zone));
    let until = dates
        .to
        .and_then(|day| day.checked_add_days(Days::new(1)))
        .map(|day| start_of_day(day, zone));
    (from, until)
}

/// The first existing moment of a day: midnight, or the end of a daylight-saving gap that
/// swallowed midnight.
fn start_of_day(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    (0..=180)
        .step_by(15)
        .find_map(|minutes| {
            let local = midnight + chrono::Duration::minutes(minutes);
            zone.from_local_datetime(&local).earliest()
        })
        .map(|moment| moment.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

/// Odoo's datetime text, UTC without a zone.
fn odoo_datetime(moment: DateTime<Utc>) -> String {
    moment.format("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn a_day_in_berlin_starts_the_evening_before_in_utc() {
        let range = OrderDateRange {
            from: day(2026, 1, 10),
            to: day(2026, 7, 10),
        };
        let (from, until) = order_date_bounds(range, chrono_tz::Europe::Berlin);
        assert_eq!(odoo_datetime(from.unwrap()), "2026-01-09 23:00:00");
        assert_eq!(odoo_datetime(until.unwrap()), "2026-07-10 22:00:00");
    }

    #[test]
    fn a_day_whose_midnight_falls_in_a_dst_gap_starts_when_the_gap_ends() {
        let range = OrderDateRange {
            from: day(2018, 11, 4),
            to: None,
        };
        let (from, _) = order_date_bounds(range, chrono_tz::America::Sao_Paulo);
        assert_eq!(odoo_datetime(from.unwrap()), "2018-11-04 03:00:00");
    }

    #[test]
    fn the_default_scope_spells_confirmed_orders_per_version() {
        let v16 = OdooVersion {
            major: 16,
            minor: 0,
            text: "16.0".into(),
        };
        let v18 = OdooVersion {
            major: 18,
            minor: 0,
            text: "18.0".into(),
        };
        let none = OrderDateRange::default();
        assert!(import_scope(&v16, None, none, chrono_tz::UTC)
            .to_json()
            .contains("done"));
        assert!(!import_scope(&v18, None, none, chrono_tz::UTC)
            .to_json()
            .contains("done"));
    }

    #[test]
    fn a_user_filter_replaces_the_default_and_dates_narrow_it() {
        let v18 = OdooVersion {
            major: 18,
            minor: 0,
            text: "18.0".into(),
        };
        let filter = Domain::parse("[('state', '=', 'draft')]").unwrap();
        let range = OrderDateRange {
            from: day(2026, 3, 1),
            to: None,
        };
        let json = import_scope(&v18, Some(&filter), range, chrono_tz::UTC).to_json();
        assert!(
            json.contains("draft") && json.contains("2026-03-01 00:00:00"),
            "{json}"
        );
    }
}
