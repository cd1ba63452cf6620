//! Read models built from the event log: Sales Records, product mapping, production-planning
//! demand and sync history. Each projection reads `infrastructure::event_log` in the global
//! order from its own checkpoint and writes its rows and checkpoint in one transaction.
//!
//! No projection exists yet: the connection settings of the foundation are read straight
//! from their aggregates. TODO(#5): the projection runtime and the read models.
