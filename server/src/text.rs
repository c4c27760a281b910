//! Typed text fields checked against the domain's rule for printed text
//! ([`sentra_domain::TextRule`]): NFC, trimmed, no control characters, direction overrides or
//! invisible characters, each refusal naming its field.

use sentra_domain::TextRule;
use sentra_protocol::FieldError;

/// `value` as stored under `rule`, or (with a problem added to `errors`) the trimmed input.
pub fn checked(field: &str, rule: TextRule, value: &str, errors: &mut Vec<FieldError>) -> String {
    rule.clean(value).unwrap_or_else(|e| {
        errors.push(FieldError::new(field, e.to_string()));
        value.trim().to_owned()
    })
}

/// `value` under `rule`, or the problem as `field: why` (for services that answer one message).
pub fn checked_one(field: &str, rule: TextRule, value: &str) -> Result<String, String> {
    rule.clean(value).map_err(|e| format!("{field}: {e}"))
}
