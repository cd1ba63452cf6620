//! Subscriptions. Progress is read from the database, not from this process's memory, so a
//! client sees a run that executes on any replica.

use std::time::Duration;

use application::access::{Caller, Operation};
use application::sync::Syncs;
use async_graphql::{Context, Result, Subscription, ID};
use domain::sync_run::{SyncRun, SyncRunId};
use futures::stream::{self, Stream};

use super::errors::GqlResult;
use super::query::{caller, run_id, use_cases};
use super::types::SyncRunGql;

/// How often a watched run is read again.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// The subscription root.
#[derive(Debug, Default)]
pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// A sync run each time its status or counts change, from its state now until it ends.
    async fn sync_run_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = SyncRunGql>> {
        let caller = caller(ctx)?.clone();
        caller.require(Operation::ReadSyncRuns).gql()?;
        let id = run_id(&id)?;
        let syncs = use_cases(ctx)?.syncs.clone();
        syncs.get(&caller, id).await.gql()?;
        Ok(watch(syncs, caller, id))
    }
}

struct Watch {
    syncs: Syncs,
    caller: Caller,
    id: SyncRunId,
    last: Option<SyncRun>,
    ended: bool,
}

fn watch(syncs: Syncs, caller: Caller, id: SyncRunId) -> impl Stream<Item = SyncRunGql> {
    let state = Watch {
        syncs,
        caller,
        id,
        last: None,
        ended: false,
    };
    stream::unfold(state, |mut state| async move {
        if state.ended {
            return None;
        }
        loop {
            let run = match state.syncs.get(&state.caller, state.id).await {
                Ok(run) => run,
                Err(_) => return None,
            };
            if state.last.as_ref() != Some(&run) {
                state.ended = run.status.is_finished();
                state.last = Some(run.clone());
                return Some((SyncRunGql::from(run), state));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    })
}
