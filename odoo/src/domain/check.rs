//! Checks the field names of a domain against a model's `fields_get` answer.

use super::{Domain, Term};
use crate::error::{ErrorKind, OdooError};
use crate::fields::FieldCatalog;

/// Fails with [`ErrorKind::InvalidFilter`] naming the first field that the model does not
/// have, that Odoo cannot search (not stored, no search method), or that is followed by a
/// further path segment without being a relation.
///
/// Only the first segment of a dotted path is checked: the fields of the related model are
/// not known here. Odoo 18 silently ignores a condition on a non-searchable field and 19
/// rejects it; both are refused here.
pub fn check_fields(domain: &Domain, catalog: &FieldCatalog) -> Result<(), OdooError> {
    for term in domain.terms() {
        if let Term::Condition(condition) = term {
            check_path(&condition.field, catalog)?;
        }
    }
    Ok(())
}

fn check_path(path: &str, catalog: &FieldCatalog) -> Result<(), OdooError> {
    let (first, rest) = match path.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (path, None),
    };
    let Some(field) = catalog.get(first) else {
        return Err(invalid(format!(
            "unknown field '{first}' on {}",
            catalog.model()
        )));
    };
    if !field.is_searchable() {
        return Err(invalid(format!(
            "field '{first}' is not stored and cannot be searched"
        )));
    }
    if rest.is_some() && !field.is_relational() {
        return Err(invalid(format!(
            "field '{first}' is not a relation: '{path}' is invalid"
        )));
    }
    Ok(())
}

fn invalid(detail: String) -> OdooError {
    OdooError::new(ErrorKind::InvalidFilter, detail)
}
