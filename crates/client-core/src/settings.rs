//! Where the desktop app finds its server: command line, then environment, then the default.

/// The server a fresh install talks to: the one `make run` starts on this machine.
pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8080";

/// Settings resolved once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopSettings {
    /// Base URL of the SentraRental server.
    pub server_url: String,
}

impl DesktopSettings {
    /// Resolves settings from the process arguments (`--server-url URL` or `--server-url=URL`)
    /// and the `SENTRA_SERVER_URL` environment value; the argument wins.
    pub fn resolve<I, S>(args: I, env_server_url: Option<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut from_args = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let arg = arg.as_ref();
            if arg == "--server-url" {
                from_args = args.next().map(|v| v.as_ref().to_owned());
            } else if let Some(value) = arg.strip_prefix("--server-url=") {
                from_args = Some(value.to_owned());
            }
        }
        let server_url = from_args
            .or(env_server_url.filter(|v| !v.trim().is_empty()))
            .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned());
        Self { server_url }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_beats_environment_beats_default() {
        let none: [&str; 0] = [];
        assert_eq!(
            DesktopSettings::resolve(none, None).server_url,
            DEFAULT_SERVER_URL
        );
        assert_eq!(
            DesktopSettings::resolve(none, Some("http://env:1".into())).server_url,
            "http://env:1"
        );
        assert_eq!(
            DesktopSettings::resolve(
                ["app", "--server-url", "http://arg:2"],
                Some("http://env:1".into())
            )
            .server_url,
            "http://arg:2"
        );
        assert_eq!(
            DesktopSettings::resolve(["app", "--server-url=http://arg:3"], None).server_url,
            "http://arg:3"
        );
    }

    #[test]
    fn a_blank_environment_value_is_ignored() {
        let none: [&str; 0] = [];
        assert_eq!(
            DesktopSettings::resolve(none, Some("  ".into())).server_url,
            DEFAULT_SERVER_URL
        );
    }
}
