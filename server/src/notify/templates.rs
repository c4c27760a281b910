//! The message templates in `notification-templates/<language>/<name>.txt`, compiled into the
//! server, and their rendering.
//!
//! A template file is a small header, `---`, then the body:
//!
//! ```text
//! subject: Pemesanan {booking_ref} dikonfirmasi
//! params: customer_name, booking_ref
//! ---
//! Halo {customer_name}, …
//! ```
//!
//! `params` is the order of the WhatsApp template's `{{1}}`…`{{n}}` (the approved template on
//! Meta's side carries the same body with numbered placeholders); every `{name}` in the subject
//! and body must be one of them.

use std::collections::BTreeMap;

use sentra_domain::notification::{Language, MessageKind};

macro_rules! files {
    ($($name:literal),* $(,)?) => {
        &[$(
            ($name, Language::Id, include_str!(concat!("../../../notification-templates/id/", $name, ".txt"))),
            ($name, Language::En, include_str!(concat!("../../../notification-templates/en/", $name, ".txt"))),
        )*]
    };
}

/// Every template file: (name, language, text).
const FILES: &[(&str, Language, &str)] = files!(
    "waitlist_offer",
    "waitlist_lapsed",
    "payment_closing",
    "booking_confirmed",
    "pickup_reminder",
    "return_due",
    "rental_overdue",
    "rental_overdue_staff",
    "deposit_captured",
    "deposit_precaptured",
    "deposit_released",
    "kyc_verified",
    "kyc_rejected",
    "login_changed",
    "processor_erasure",
);

/// A template read from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub subject: &'static str,
    pub params: Vec<&'static str>,
    pub body: &'static str,
}

/// A message in its words, ready for a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
    /// The parameter values in the template's order (for WhatsApp).
    pub params: Vec<String>,
}

/// A template that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("no template {0} in {1:?}")]
    Missing(&'static str, Language),
    #[error("template {0}: {1}")]
    Malformed(&'static str, String),
    #[error("template {0} needs a value for {1:?}")]
    NoValue(&'static str, String),
}

/// The template of `kind` in `language`.
pub fn template(kind: MessageKind, language: Language) -> Result<Template, TemplateError> {
    let name = kind.template();
    let text = FILES
        .iter()
        .find(|(n, l, _)| *n == name && *l == language)
        .map(|(_, _, text)| *text)
        .ok_or(TemplateError::Missing(name, language))?;
    parse(name, text)
}

fn parse(name: &'static str, text: &'static str) -> Result<Template, TemplateError> {
    let malformed = |why: &str| TemplateError::Malformed(name, why.to_owned());
    let (header, body) = text
        .split_once("\n---\n")
        .ok_or_else(|| malformed("no --- line between the header and the body"))?;
    let mut subject = None;
    let mut params = None;
    for line in header.lines() {
        match line.split_once(':') {
            Some(("subject", v)) => subject = Some(v.trim()),
            Some(("params", v)) => {
                params = Some(
                    v.split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .collect(),
                );
            }
            _ => return Err(malformed(&format!("unknown header line {line:?}"))),
        }
    }
    let template = Template {
        subject: subject.ok_or_else(|| malformed("no subject"))?,
        params: params.ok_or_else(|| malformed("no params"))?,
        body: body.trim_end(),
    };
    for used in placeholders(template.subject).chain(placeholders(template.body)) {
        if !template.params.contains(&used) {
            return Err(malformed(&format!("{{{used}}} is not in params")));
        }
    }
    Ok(template)
}

/// The `{name}` placeholders of a text.
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// Renders `kind` in `language` with `values` (one per declared parameter).
pub fn render(
    kind: MessageKind,
    language: Language,
    values: &BTreeMap<&str, String>,
) -> Result<Rendered, TemplateError> {
    let template = template(kind, language)?;
    let name = kind.template();
    let mut params = Vec::with_capacity(template.params.len());
    for param in &template.params {
        let value = values
            .get(param)
            .ok_or_else(|| TemplateError::NoValue(name, (*param).to_owned()))?;
        // WhatsApp refuses parameters with new lines, tabs or runs of spaces.
        params.push(value.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    let fill = |text: &str| {
        let mut out = text.to_owned();
        for (param, value) in template.params.iter().zip(&params) {
            out = out.replace(&format!("{{{param}}}"), value);
        }
        out
    };
    Ok(Rendered {
        subject: fill(template.subject),
        body: fill(template.body),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_both_languages_with_the_same_parameters() {
        for kind in MessageKind::ALL {
            let id = template(kind, Language::Id).expect("Indonesian template");
            let en = template(kind, Language::En).expect("English template");
            assert_eq!(id.params, en.params, "{kind:?}");
            // Every parameter appears in the body (WhatsApp numbers the body's placeholders).
            for param in &id.params {
                for t in [&id, &en] {
                    assert!(t.body.contains(&format!("{{{param}}}")), "{kind:?} {param}");
                }
            }
        }
    }

    #[test]
    fn rendering_fills_every_placeholder_and_flattens_values() {
        for kind in MessageKind::ALL {
            let t = template(kind, Language::Id).expect("template");
            let values: BTreeMap<&str, String> = t
                .params
                .iter()
                .map(|p| (*p, format!("nilai\n{p}")))
                .collect();
            let r = render(kind, Language::Id, &values).expect("renders");
            assert!(
                !r.body.contains('{') && !r.subject.contains('{'),
                "{kind:?}"
            );
            assert!(r.params.iter().all(|p| !p.contains('\n')));
        }
    }

    #[test]
    fn a_missing_value_is_an_error_not_a_blank() {
        let err = render(MessageKind::KycVerified, Language::En, &BTreeMap::new());
        assert!(
            matches!(err, Err(TemplateError::NoValue("kyc_verified", p)) if p == "customer_name")
        );
    }

    #[test]
    fn a_placeholder_outside_params_is_refused() {
        let err = parse("x", "subject: {a}\nparams: b\n---\n{b}\n");
        assert!(matches!(err, Err(TemplateError::Malformed(..))));
    }
}
