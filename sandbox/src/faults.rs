//! Calls received and faults injected on them.
//!
//! Every request the sandbox answers is logged as a [`CallRecord`]. A [`FaultRule`] fires on
//! the Nth call its [`CallMatcher`] matches (and the following ones, `times` in all).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One request as the sandbox understood it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// `xmlrpc`, `jsonrpc`, `json2` or `http`.
    pub protocol: String,
    /// The request path.
    pub path: String,
    /// The RPC service (`common`, `object`, `db`), when there is one.
    pub service: Option<String>,
    /// The method: the model method for `execute_kw` and JSON-2, else the service method.
    pub method: Option<String>,
    /// The model, for model calls.
    pub model: Option<String>,
    /// The database named by the call, when it names one.
    pub database: Option<String>,
}

/// Which calls a rule or a count applies to; an empty matcher matches every call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallMatcher {
    /// Only this protocol (`xmlrpc`, `jsonrpc`, `json2`, `http`).
    pub protocol: Option<String>,
    /// Only this model.
    pub model: Option<String>,
    /// Only this method.
    pub method: Option<String>,
}

impl CallMatcher {
    /// Matches every call.
    pub fn any() -> CallMatcher {
        CallMatcher::default()
    }

    /// Matches calls of one model method (`sale.order`, `search_read`).
    pub fn model_method(model: &str, method: &str) -> CallMatcher {
        CallMatcher {
            model: Some(model.into()),
            method: Some(method.into()),
            ..CallMatcher::default()
        }
    }

    /// Matches calls of one method, whatever the model or service.
    pub fn method(method: &str) -> CallMatcher {
        CallMatcher {
            method: Some(method.into()),
            ..CallMatcher::default()
        }
    }

    /// Matches calls over one protocol.
    pub fn protocol(protocol: &str) -> CallMatcher {
        CallMatcher {
            protocol: Some(protocol.into()),
            ..CallMatcher::default()
        }
    }

    /// Whether a call matches.
    pub fn matches(&self, call: &CallRecord) -> bool {
        let same = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
        same(&self.model, &call.model)
            && same(&self.method, &call.method)
            && self.protocol.as_ref().is_none_or(|p| *p == call.protocol)
    }
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The answer comes late, then normally.
    Latency {
        /// How late, in milliseconds.
        millis: u64,
    },
    /// No answer ever comes.
    Hang,
    /// HTTP 429 with a `Retry-After` header.
    TooManyRequests {
        /// The `Retry-After` seconds.
        retry_after: u64,
    },
    /// An HTTP error status (500, 502, 503, 504...) with a proxy's HTML page.
    Status {
        /// The status code.
        status: u16,
    },
    /// The connection is closed without an answer.
    ConnectionReset,
    /// The normal answer, cut in the middle of its body.
    TruncatedBody,
    /// HTTP 200 with an HTML login page instead of the API answer.
    HtmlPage,
    /// HTTP 200 with the protocol's content type and a body that does not parse.
    MalformedBody,
}

impl Fault {
    /// A latency fault.
    pub fn latency(delay: Duration) -> Fault {
        Fault::Latency {
            millis: delay.as_millis() as u64,
        }
    }
}

/// A fault injected on the Nth matching call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Which calls count.
    #[serde(default)]
    pub matcher: CallMatcher,
    /// The first matching call (1-based) that gets the fault.
    #[serde(default = "one")]
    pub nth: usize,
    /// How many matching calls in a row get it.
    #[serde(default = "one")]
    pub times: usize,
    /// The fault.
    pub fault: Fault,
    /// Matching calls seen so far.
    #[serde(skip)]
    pub seen: usize,
}

fn one() -> usize {
    1
}

impl FaultRule {
    /// A fault on the first call of any kind.
    pub fn new(fault: Fault) -> FaultRule {
        FaultRule {
            matcher: CallMatcher::any(),
            nth: 1,
            times: 1,
            fault,
            seen: 0,
        }
    }

    /// Only calls the matcher matches count.
    pub fn matching(mut self, matcher: CallMatcher) -> FaultRule {
        self.matcher = matcher;
        self
    }

    /// The fault starts at the Nth matching call (1-based).
    pub fn on_nth(mut self, nth: usize) -> FaultRule {
        self.nth = nth.max(1);
        self
    }

    /// The fault repeats on this many matching calls in a row (`usize::MAX`: for ever).
    pub fn times(mut self, times: usize) -> FaultRule {
        self.times = times;
        self
    }

    /// Counts a call; returns the fault when this call gets it.
    pub fn observe(&mut self, call: &CallRecord) -> Option<Fault> {
        if !self.matcher.matches(call) {
            return None;
        }
        self.seen += 1;
        let fires = self.seen >= self.nth && self.seen - self.nth < self.times;
        fires.then(|| self.fault.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str) -> CallRecord {
        CallRecord {
            protocol: "jsonrpc".into(),
            path: "/jsonrpc".into(),
            service: Some("object".into()),
            method: Some(method.into()),
            model: Some("sale.order".into()),
            database: None,
        }
    }

    #[test]
    fn a_rule_fires_on_the_nth_matching_call_only() {
        let mut rule = FaultRule::new(Fault::HtmlPage)
            .matching(CallMatcher::method("search_read"))
            .on_nth(2);

        let fired: Vec<bool> = ["search_read", "search_count", "search_read", "search_read"]
            .iter()
            .map(|m| rule.observe(&call(m)).is_some())
            .collect();

        assert_eq!(fired, [false, false, true, false]);
    }

    #[test]
    fn a_rule_repeats_as_many_times_as_asked() {
        let mut rule = FaultRule::new(Fault::Status { status: 503 }).times(2);

        let fired: Vec<bool> = (0..3)
            .map(|_| rule.observe(&call("read")).is_some())
            .collect();

        assert_eq!(fired, [true, true, false]);
    }

    #[test]
    fn rules_read_from_json_default_to_the_first_call() {
        let rule: FaultRule =
            serde_json::from_str(r#"{"fault": {"kind": "too_many_requests", "retry_after": 3}}"#)
                .unwrap();

        assert_eq!(
            rule,
            FaultRule::new(Fault::TooManyRequests { retry_after: 3 })
        );
    }
}
