//! Contact details as customers type them: Indonesian mobile numbers normalised to `+62…`,
//! e-mail addresses lower-cased, names trimmed; invalid ones named field by field.

use sentra_protocol::FieldError;

/// `+62…` from `+62…`, `62…` or `0…`; `None` when it is not an Indonesian mobile number.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let rest = digits
        .strip_prefix("+62")
        .or_else(|| digits.strip_prefix("62"))
        .or_else(|| digits.strip_prefix('0'))?;
    let valid = rest.starts_with('8')
        && (8..=13).contains(&rest.len())
        && rest.chars().all(|c| c.is_ascii_digit());
    valid.then(|| format!("+62{rest}"))
}

pub(super) fn normalise_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let valid = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !email.contains(char::is_whitespace);
    valid.then_some(email)
}

/// Validated contact fields: (name, phone, email), or the field errors.
pub(super) fn contact(
    name: Option<&str>,
    phone: Option<&str>,
    email: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> (Option<String>, Option<String>, Option<String>) {
    let name = name
        .map(|n| crate::text::checked("full_name", sentra_domain::TextRule::line(200), n, errors));
    let phone = phone.filter(|p| !p.trim().is_empty()).map(|p| {
        normalise_phone(p).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "phone",
                "expected an Indonesian mobile number such as 0812 3456 7890",
            ));
            String::new()
        })
    });
    let email = email.filter(|e| !e.trim().is_empty()).map(|e| {
        normalise_email(e).unwrap_or_else(|| {
            errors.push(FieldError::new("email", "expected an e-mail address"));
            String::new()
        })
    });
    (name, phone, email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised_to_plus_62() {
        assert_eq!(
            normalise_phone("0812-3456-7890").as_deref(),
            Some("+6281234567890")
        );
        assert_eq!(
            normalise_phone("+62 812 3456 7890").as_deref(),
            Some("+6281234567890")
        );
        assert_eq!(
            normalise_phone("6281234567").as_deref(),
            Some("+6281234567")
        );
        for bad in ["021-555-1234", "12345", "+1 415 555 0100", "08abc"] {
            assert_eq!(normalise_phone(bad), None, "{bad}");
        }
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            normalise_email(" Budi@Example.COM ").as_deref(),
            Some("budi@example.com")
        );
        for bad in [
            "budi",
            "@example.com",
            "budi@",
            "budi@localhost",
            "a b@example.com",
        ] {
            assert_eq!(normalise_email(bad), None, "{bad}");
        }
    }
}
