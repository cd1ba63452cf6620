//! Syntax checks of user filters with the client's domain parser.

use application::ports::FilterSyntax;
use odoo_client::Domain;

/// Checks filters as the Odoo client will parse them when it sends them.
#[derive(Debug, Clone, Copy, Default)]
pub struct OdooFilterSyntax;

impl FilterSyntax for OdooFilterSyntax {
    fn check(&self, filter: &str) -> Result<(), String> {
        Domain::parse(filter)
            .map(|_| ())
            .map_err(|error| format!("is not a valid Odoo domain: {error}"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_python_style_filter_passes_and_a_broken_one_names_the_position() {
        let syntax = OdooFilterSyntax;
        assert!(syntax.check("[('state', 'in', ['sale', 'done'])]").is_ok());
        let error = syntax.check("[('state', '=')").unwrap_err();
        assert!(error.contains("position"), "{error}");
    }
}
