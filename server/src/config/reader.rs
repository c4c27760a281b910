//! Reading variables one by one while collecting every problem, so an operator sees them all at
//! once. Messages never repeat a value (values may be secrets).

use std::time::Duration;

use secrecy::SecretString;

/// Why a value was refused: a short explanation that never repeats the value.
#[derive(Debug)]
pub(super) struct Invalid(pub(super) String);

impl From<&str> for Invalid {
    fn from(why: &str) -> Self {
        Invalid(why.to_owned())
    }
}

/// The base URL of a provider we send keys and personal data to: `https://` only, except
/// `http://` to this machine's loopback (the contract servers of the tests).
pub(super) fn provider_url(v: &str) -> Result<String, Invalid> {
    let loopback = v.strip_prefix("http://").is_some_and(|rest| {
        let host = rest.split(['/', '?']).next().unwrap_or_default();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.split_once(']'))
            .map_or_else(
                || host.rsplit_once(':').map_or(host, |(h, _)| h),
                |(h, _)| h,
            );
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    if (v.starts_with("https://") || loopback) && !v.contains(char::is_whitespace) {
        Ok(v.trim_end_matches('/').to_owned())
    } else {
        Err(Invalid::from(
            "expected an https:// URL (plain http:// only to this machine's loopback)",
        ))
    }
}

/// A data key's id: 1 to 16 of `a-z`, `0-9`, `-`.
pub(super) fn key_id(v: &str) -> Result<String, Invalid> {
    let ok = (1..=16).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(v.to_owned())
    } else {
        Err(Invalid::from("expected 1 to 16 of a-z, 0-9 and -"))
    }
}

/// Retired data keys: `id=base64,id=base64` (each 32 bytes).
pub(super) fn retired_keys(v: &str) -> Result<Vec<(String, SecretString)>, Invalid> {
    use base64::Engine as _;
    v.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (id, key) = pair
                .split_once('=')
                .ok_or_else(|| Invalid::from("expected id=base64 pairs, comma-separated"))?;
            let id = key_id(id.trim())?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(key.trim())
                .map_err(|_| Invalid::from("each retired key must be base64 of 32 bytes"))?;
            if bytes.len() != 32 {
                return Err(Invalid::from("each retired key must be base64 of 32 bytes"));
            }
            Ok((id, SecretString::from(key.trim().to_owned())))
        })
        .collect()
}

pub(super) fn parse_bool(v: &str) -> Result<bool, Invalid> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

/// Collects problems while reading variables. A bad value is recorded and replaced by the
/// default, so reading goes on and every problem is found in one pass.
pub(super) struct Reader<'a, F: Fn(&str) -> Option<String>> {
    pub(super) lookup: &'a F,
    pub(super) problems: Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> Reader<'_, F> {
    pub(super) fn parsed<T>(
        &mut self,
        name: &str,
        default: &str,
        parse: impl Fn(&str) -> Result<T, Invalid>,
    ) -> T {
        let raw = (self.lookup)(name);
        let value = raw.as_deref().map_or(default, str::trim);
        parse(value).unwrap_or_else(|why| {
            self.problems.push(format!("{name}: {}", why.0));
            parse(default).unwrap_or_else(|_| unreachable!("the default of {name} is valid"))
        })
    }

    pub(super) fn number(&mut self, name: &str, default: &str, min: u32, max: u32) -> u32 {
        self.parsed(name, default, |v| match v.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(Invalid(format!(
                "expected a whole number from {min} to {max}"
            ))),
        })
    }

    pub(super) fn seconds(&mut self, name: &str, default: &str, min: u32, max: u32) -> Duration {
        Duration::from_secs(u64::from(self.number(name, default, min, max)))
    }

    pub(super) fn secret(&mut self, name: &str, min_chars: usize) -> SecretString {
        let value = (self.lookup)(name).unwrap_or_default();
        if value.trim().is_empty() {
            self.problems
                .push(format!("{name}: is required but not set"));
        } else if value.chars().count() < min_chars {
            self.problems
                .push(format!("{name}: must have at least {min_chars} characters"));
        }
        SecretString::from(value)
    }

    /// A required base64 key of exactly 32 bytes.
    pub(super) fn data_key(&mut self, name: &str) -> SecretString {
        use base64::Engine as _;
        let value = (self.lookup)(name).unwrap_or_default();
        let decoded = base64::engine::general_purpose::STANDARD.decode(value.trim());
        if value.trim().is_empty() {
            self.problems.push(format!(
                "{name}: is required but not set (generate one with `openssl rand -base64 32`)"
            ));
        } else if decoded.map(|k| k.len()) != Ok(32) {
            self.problems.push(format!(
                "{name}: expected 32 random bytes in base64 (`openssl rand -base64 32`)"
            ));
        }
        SecretString::from(value.trim().to_owned())
    }

    pub(super) fn required_url(&mut self, name: &str, schemes: &[&str]) -> SecretString {
        if (self.lookup)(name).is_none_or(|v| v.trim().is_empty()) {
            self.problems
                .push(format!("{name}: is required but not set"));
            return SecretString::from(String::new());
        }
        self.url(name, "", schemes)
    }

    pub(super) fn url(&mut self, name: &str, default: &str, schemes: &[&str]) -> SecretString {
        let value = (self.lookup)(name).filter(|v| !v.trim().is_empty());
        let value = value.as_deref().map_or(default, str::trim);
        if !has_scheme(value, schemes) {
            self.problems.push(wrong_scheme(name, schemes));
        }
        SecretString::from(value.to_owned())
    }

    pub(super) fn url_list(&mut self, name: &str, schemes: &[&str]) -> Vec<SecretString> {
        let raw = (self.lookup)(name).unwrap_or_default();
        let urls: Vec<&str> = raw
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        if urls.iter().any(|u| !has_scheme(u, schemes)) {
            self.problems.push(wrong_scheme(name, schemes));
        }
        urls.into_iter()
            .map(|u| SecretString::from(u.to_owned()))
            .collect()
    }
}

fn has_scheme(value: &str, schemes: &[&str]) -> bool {
    value
        .split_once("://")
        .is_some_and(|(scheme, rest)| schemes.contains(&scheme) && !rest.is_empty())
}

fn wrong_scheme(name: &str, schemes: &[&str]) -> String {
    let schemes: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
    format!(
        "{name}: expected URLs starting with {}",
        schemes.join(" or ")
    )
}

#[cfg(test)]
mod tests {
    use super::provider_url;

    #[test]
    fn providers_are_reached_over_https_or_on_loopback_only() {
        for good in [
            "https://api.verihubs.com",
            "http://127.0.0.1:4010",
            "http://127.8.0.1:4010/v2",
            "http://[::1]:4010",
            "http://localhost:4010",
        ] {
            assert!(provider_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://api.verihubs.com",
            "http://127.0.0.1.evil.example",
            "http://10.0.0.5:80",
            "ftp://api.verihubs.com",
            "api.verihubs.com",
        ] {
            assert!(provider_url(bad).is_err(), "{bad}");
        }
    }
}
