//! How the desktop app starts: which server it talks to and where it keeps its files. The
//! command line wins, then the environment, then the preferences saved in the settings screen,
//! then the defaults.

use std::path::PathBuf;

/// The server a fresh install talks to: the one `make run` starts on this machine.
pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8080";

/// Settings resolved once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopSettings {
    /// Base URL of the SentraRental server.
    pub server_url: String,
    /// Where the offline copies and preferences live; `None` = the OS's app data directory.
    pub data_dir: Option<PathBuf>,
}

impl DesktopSettings {
    /// Settings for `server_url` with the OS's data directory.
    pub fn for_server(server_url: impl Into<String>) -> Self {
        Self {
            server_url: server_url.into(),
            data_dir: None,
        }
    }

    /// Resolves settings from the process arguments (`--server-url URL`, `--data-dir DIR`, also
    /// as `--name=value`) and the environment (`SENTRA_SERVER_URL`, `SENTRA_DATA_DIR`, looked up
    /// through `env`); `saved_server_url` is the one chosen in the settings screen.
    pub fn resolve<I, S>(
        args: I,
        env: impl Fn(&str) -> Option<String>,
        saved_server_url: Option<String>,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let given = |flag: &str, var: &str| {
            argument(&args, flag).or_else(|| env(var).filter(|v| !v.trim().is_empty()))
        };
        let server_url = given("--server-url", "SENTRA_SERVER_URL")
            .or(saved_server_url.filter(|v| !v.trim().is_empty()))
            .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned());
        Self {
            server_url,
            data_dir: given("--data-dir", "SENTRA_DATA_DIR").map(PathBuf::from),
        }
    }
}

/// The value of `--flag VALUE` or `--flag=VALUE` (the last one given wins).
fn argument(args: &[String], flag: &str) -> Option<String> {
    let mut found = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == flag {
            found = iter.next().cloned();
        } else if let Some(value) = arg.strip_prefix(flag).and_then(|v| v.strip_prefix('=')) {
            found = Some(value.to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn argument_beats_environment_beats_saved_beats_default() {
        let none: [&str; 0] = [];
        let saved = || Some("http://saved:4".to_owned());
        assert_eq!(
            DesktopSettings::resolve(none, env_of(&[]), None).server_url,
            DEFAULT_SERVER_URL
        );
        assert_eq!(
            DesktopSettings::resolve(none, env_of(&[]), saved()).server_url,
            "http://saved:4"
        );
        assert_eq!(
            DesktopSettings::resolve(
                none,
                env_of(&[("SENTRA_SERVER_URL", "http://env:1")]),
                saved()
            )
            .server_url,
            "http://env:1"
        );
        let args = ["app", "--server-url", "http://arg:2", "--data-dir=/tmp/x"];
        let resolved = DesktopSettings::resolve(
            args,
            env_of(&[("SENTRA_SERVER_URL", "http://env:1")]),
            saved(),
        );
        assert_eq!(resolved.server_url, "http://arg:2");
        assert_eq!(resolved.data_dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!(
            DesktopSettings::resolve(["app", "--server-url=http://arg:3"], env_of(&[]), None)
                .server_url,
            "http://arg:3"
        );
    }

    #[test]
    fn a_blank_environment_value_is_ignored() {
        let none: [&str; 0] = [];
        let resolved = DesktopSettings::resolve(
            none,
            env_of(&[("SENTRA_SERVER_URL", "  "), ("SENTRA_DATA_DIR", "")]),
            None,
        );
        assert_eq!(resolved.server_url, DEFAULT_SERVER_URL);
        assert_eq!(resolved.data_dir, None);
    }
}
