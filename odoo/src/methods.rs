//! The closed list of RPC methods the client can ever send.
//!
//! Every request is built from a [`Method`]; there is no way to send a method named by a
//! string. All of them only read: nothing here creates, writes, deletes or runs an action.

/// The legacy RPC service a method belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `common`: version and login.
    Common,
    /// `db`: the database list.
    Db,
    /// `object`: model methods through `execute_kw`.
    Object,
}

impl Service {
    /// The service name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Common => "common",
            Service::Db => "db",
            Service::Object => "object",
        }
    }
}

/// One read-only method the client may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `common.version()`.
    Version,
    /// `common.authenticate(db, login, key, {})`.
    Authenticate,
    /// `db.list()`.
    ListDatabases,
    /// `search_read(domain, fields, offset, limit, order)`.
    SearchRead,
    /// `read(ids, fields)`.
    Read,
    /// `search(domain, offset, limit, order)`.
    Search,
    /// `search_count(domain)`.
    SearchCount,
    /// `fields_get(allfields, attributes)`.
    FieldsGet,
    /// `check_access_rights(operation, raise_exception)`, Odoo 17 and older.
    CheckAccessRights,
    /// `has_access(operation)`, Odoo 18 and later.
    HasAccess,
    /// `res.users.context_get()`: the calling user's context, including its `uid`.
    ContextGet,
    /// `res.users.has_group(group_ext_id)` on the user's own record.
    HasGroup,
}

impl Method {
    /// Every method the client can send.
    pub const ALL: [Method; 12] = [
        Method::Version,
        Method::Authenticate,
        Method::ListDatabases,
        Method::SearchRead,
        Method::Read,
        Method::Search,
        Method::SearchCount,
        Method::FieldsGet,
        Method::CheckAccessRights,
        Method::HasAccess,
        Method::ContextGet,
        Method::HasGroup,
    ];

    /// Odoo's name of the method.
    pub fn name(self) -> &'static str {
        match self {
            Method::Version => "version",
            Method::Authenticate => "authenticate",
            Method::ListDatabases => "list",
            Method::SearchRead => "search_read",
            Method::Read => "read",
            Method::Search => "search",
            Method::SearchCount => "search_count",
            Method::FieldsGet => "fields_get",
            Method::CheckAccessRights => "check_access_rights",
            Method::HasAccess => "has_access",
            Method::ContextGet => "context_get",
            Method::HasGroup => "has_group",
        }
    }

    /// The legacy service that serves it.
    pub fn service(self) -> Service {
        match self {
            Method::Version | Method::Authenticate => Service::Common,
            Method::ListDatabases => Service::Db,
            _ => Service::Object,
        }
    }

    /// Whether it is a model method (sent with `execute_kw` or to `/json/2/<model>/<method>`).
    pub fn is_model_method(self) -> bool {
        self.service() == Service::Object
    }

    /// The method with Odoo's name `name`, if it is in the closed list.
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// The legacy envelope method that carries model methods on the `object` service.
pub(crate) const EXECUTE_KW: &str = "execute_kw";

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Odoo methods that only read; every method the client can send must be one of them.
    const READ_ONLY: [&str; 12] = [
        "version",
        "authenticate",
        "list",
        "search_read",
        "read",
        "search",
        "search_count",
        "fields_get",
        "check_access_rights",
        "has_access",
        "context_get",
        "has_group",
    ];

    #[test]
    fn every_method_the_client_can_send_only_reads() {
        for method in Method::ALL {
            assert!(
                READ_ONLY.contains(&method.name()),
                "{method:?} is not read-only"
            );
        }
    }

    #[test]
    fn writing_methods_and_actions_are_not_in_the_closed_list() {
        let writes = [
            "create",
            "write",
            "unlink",
            "copy",
            "action_confirm",
            "action_cancel",
        ];

        for name in writes {
            assert_eq!(Method::from_name(name), None, "{name}");
        }
        assert!(Method::ALL.iter().all(|m| !m.name().starts_with("action_")));
        assert!(Method::ALL.iter().all(|m| !m.name().starts_with('_')));
    }

    #[test]
    fn only_the_object_service_carries_model_methods() {
        let model_methods = Method::ALL.iter().filter(|m| m.is_model_method()).count();

        assert_eq!(model_methods, 9);
        assert_eq!(Method::Authenticate.service().as_str(), "common");
        assert_eq!(Method::ListDatabases.service().as_str(), "db");
    }
}
