//! Typed text fields checked against the domain's rule for printed text
//! ([`sentra_domain::TextRule`]): NFC, trimmed, no control characters, direction overrides or
//! invisible characters, each refusal naming its field.

use sentra_domain::{TextError, TextRule};
use sentra_protocol::FieldError;

/// `value` as stored under `rule`, or (with a problem added to `errors`) the trimmed input.
pub fn checked(field: &str, rule: TextRule, value: &str, errors: &mut Vec<FieldError>) -> String {
    rule.clean(value).unwrap_or_else(|e| {
        errors.push(FieldError::new(field, e.to_string()));
        value.trim().to_owned()
    })
}

/// A refused text field, named (`reason: must not be empty`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {error}")]
pub struct FieldTextError {
    pub field: &'static str,
    pub error: TextError,
}

/// `value` under `rule`, or why the field is refused (for services that answer one message).
pub fn checked_one(
    field: &'static str,
    rule: TextRule,
    value: &str,
) -> Result<String, FieldTextError> {
    rule.clean(value)
        .map_err(|error| FieldTextError { field, error })
}

/// A reason or note that may have lines but must say something.
pub const fn required_note(max_chars: usize) -> TextRule {
    TextRule {
        max_chars,
        may_be_empty: false,
        multiline: true,
    }
}
