//! Callers, roles and what each role may do. The table in [`Role::allows`] is the one place
//! that grants operations; every use case asks it first.

use domain::ids::{AccountId, Actor};
use uuid::Uuid;

use crate::AppError;

/// A caller's role within their account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything in the account.
    Admin,
    /// Sales records, runs, unmapped products, mapping and items; no connection settings.
    Member,
    /// Sales records, planning data and items, read-only.
    Planner,
    /// Sales records, runs, items and the audit history, read-only.
    Auditor,
}

impl Role {
    /// Every role, for tables of roles and operations.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Member, Role::Planner, Role::Auditor];

    /// Reads a role from its token claim (`admin`, `member`, `planner`, `auditor`).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "admin" => Some(Self::Admin),
            "member" => Some(Self::Member),
            "planner" => Some(Self::Planner),
            "auditor" => Some(Self::Auditor),
            _ => None,
        }
    }

    /// The claim value of this role.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Planner => "planner",
            Self::Auditor => "auditor",
        }
    }

    /// Whether this role includes an operation.
    pub fn allows(&self, operation: Operation) -> bool {
        use Operation::*;
        match self {
            Role::Admin => true,
            Role::Member => matches!(
                operation,
                ReadMe
                    | ReadAccount
                    | ReadSalesRecords
                    | ReadSyncRuns
                    | ReadUnmappedProducts
                    | MapProducts
                    | ReadItems
                    | WriteItems
            ),
            Role::Planner => matches!(
                operation,
                ReadMe | ReadAccount | ReadSalesRecords | ReadPlanning | ReadItems
            ),
            Role::Auditor => matches!(
                operation,
                ReadMe
                    | ReadAccount
                    | ReadSalesRecords
                    | ReadSyncRuns
                    | ReadAuditHistory
                    | ReadItems
            ),
        }
    }
}

/// Everything a caller can ask of the service, grouped as the role table grants them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Who am I.
    ReadMe,
    /// The account's settings.
    ReadAccount,
    /// Change the account's settings.
    UpdateAccountSettings,
    /// Connection settings and test results.
    ReadConnections,
    /// Create, change, delete and test connections.
    ManageConnections,
    /// Start, cancel and re-run syncs.
    RunSyncs,
    /// Sync runs, their status and counts.
    ReadSyncRuns,
    /// Sales records.
    ReadSalesRecords,
    /// Odoo products without a PrepStation item.
    ReadUnmappedProducts,
    /// Map and unmap products.
    MapProducts,
    /// PrepStation items.
    ReadItems,
    /// Create and change items.
    WriteItems,
    /// Production-planning demand.
    ReadPlanning,
    /// The history of what each sync did.
    ReadAuditHistory,
    /// Projection positions and lag.
    ReadProjections,
}

/// Whoever is calling: a user with a verified token, or the service itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account the caller acts in.
    pub account_id: AccountId,
    /// The token subject, `scheduler` or `system`.
    pub actor: Actor,
    /// The caller's role.
    pub role: Role,
    /// Ties together every event of one request or job.
    pub correlation_id: Uuid,
}

impl Caller {
    /// A user with a verified token.
    pub fn user(account_id: AccountId, subject: &str, role: Role) -> Self {
        Self {
            account_id,
            actor: Actor::user(subject),
            role,
            correlation_id: Uuid::new_v4(),
        }
    }

    /// The service itself, acting for an account with an admin's reach.
    pub fn system(account_id: AccountId) -> Self {
        Self {
            account_id,
            actor: Actor::system(),
            role: Role::Admin,
            correlation_id: Uuid::new_v4(),
        }
    }

    /// `Ok` when the caller's role includes the operation, `Forbidden` otherwise.
    pub fn require(&self, operation: Operation) -> Result<(), AppError> {
        if self.role.allows(operation) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn only_admins_may_see_connection_settings() {
        for role in Role::ALL {
            assert_eq!(
                role.allows(Operation::ReadConnections),
                role == Role::Admin,
                "{role:?}"
            );
        }
    }

    #[test]
    fn every_role_may_read_itself_and_its_account() {
        for role in Role::ALL {
            assert!(role.allows(Operation::ReadMe) && role.allows(Operation::ReadAccount));
        }
    }

    #[test]
    fn every_role_reads_items_and_only_members_and_admins_write_or_map() {
        for role in Role::ALL {
            assert!(role.allows(Operation::ReadItems), "{role:?}");
            let writes = matches!(role, Role::Admin | Role::Member);
            assert_eq!(role.allows(Operation::WriteItems), writes, "{role:?}");
            assert_eq!(role.allows(Operation::MapProducts), writes, "{role:?}");
        }
    }

    #[test]
    fn roles_read_from_claims_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
