//! Field-level validation errors and the text rules every field shares.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// One input field that breaks a rule, named as the API names it (`url`, `batchSize`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's API name.
    pub field: &'static str,
    /// What is wrong and what to do about it, in a sentence fragment.
    pub message: String,
}

impl FieldError {
    /// Names a field and what is wrong with it.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Every field of one input that breaks a rule; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Keeps the value of a check, or records its error and returns `None`.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    /// Records an error.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Whether no field broke a rule.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors, in the order the fields were checked.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// `Ok(())` when nothing was recorded, otherwise the collected errors.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "{}", parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}

/// Checks a required single-line text: trimmed, in Unicode normal form C, not empty, at most
/// `max_chars` characters, and free of control and invisible formatting characters.
pub fn required_text(
    field: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<String, FieldError> {
    let value: String = raw.trim().nfc().collect();
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    bounded_text(field, &value, max_chars)
}

/// Characters that are invisible or change how the text around them is shown: zero-width
/// spaces and joiners, direction overrides, byte-order marks, line and paragraph separators,
/// variation selectors, tags. Two names differing only in these look the same to a person.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{E0000}'..='\u{E007F}')
}

/// Checks a text that may span lines (tabs and line breaks allowed) against a length limit.
pub fn multiline_text(
    field: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(
            field,
            "must not be empty; leave it out instead",
        ));
    }
    check_length(field, value, max_chars)?;
    if value
        .chars()
        .any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_invisible(c))
    {
        return Err(FieldError::new(
            field,
            "must not contain control or invisible characters",
        ));
    }
    Ok(value.to_owned())
}

fn bounded_text(field: &'static str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    check_length(field, value, max_chars)?;
    if value.chars().any(|c| c.is_control() || is_invisible(c)) {
        return Err(FieldError::new(
            field,
            "must be a single line without control or invisible characters",
        ));
    }
    Ok(value.to_owned())
}

fn check_length(field: &'static str, value: &str, max_chars: usize) -> Result<(), FieldError> {
    if value.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn required_text_is_trimmed() {
        assert_eq!(
            required_text("name", "  Kitchen  ", 10).as_deref(),
            Ok("Kitchen")
        );
    }

    #[test]
    fn blank_required_text_names_its_field() {
        let error = required_text("database", "   ", 10).unwrap_err();
        assert_eq!(error.field, "database");
    }

    #[test]
    fn text_longer_than_its_limit_is_refused() {
        assert!(required_text("name", &"x".repeat(11), 10).is_err());
    }

    #[test]
    fn invisible_characters_are_refused_and_composed_forms_are_one_text() {
        for raw in ["acme\u{200B}", "\u{FEFF}", "a\u{202E}b", "a\u{2028}b"] {
            assert!(required_text("database", raw, 50).is_err(), "{raw:?}");
        }
        let composed = required_text("database", "caf\u{00E9}", 50).unwrap();
        let decomposed = required_text("database", "cafe\u{0301}", 50).unwrap();
        assert_eq!(composed, decomposed);
    }

    #[test]
    fn control_characters_are_refused_in_single_line_text() {
        assert!(required_text("username", "bob\u{0}", 10).is_err());
        assert!(multiline_text("domainFilter", "[\n]", 10).is_ok());
    }
}
