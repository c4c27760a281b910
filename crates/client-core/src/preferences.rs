//! What the counter PC remembers that is not secret: the language, the scanner and printer
//! settings, a server address chosen in settings, and the last branch worked for (so the app
//! opens the branch's offline copy before the server answers). One JSON file in the app's
//! config directory, written whole or not at all. Secrets never go here (see `keychain`).

use std::path::{Path, PathBuf};

use sentra_domain::BranchTimeZone;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{CoreError, printer::PrinterSettings, scanner::ScannerSettings};

/// The branch this PC works for, as shown and as needed offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchInfo {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub time_zone: BranchTimeZone,
}

/// The UI language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Id,
    En,
}

/// Everything remembered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    pub language: Language,
    /// Used when neither `--server-url` nor `SENTRA_SERVER_URL` is given.
    pub server_url: Option<String>,
    pub scanner: Option<ScannerSettings>,
    pub printer: PrinterSettings,
    pub last_branch: Option<BranchInfo>,
}

impl Preferences {
    /// The file inside `config_dir`.
    pub fn path(config_dir: &Path) -> PathBuf {
        config_dir.join("preferences.json")
    }

    /// Reads the file; a missing file gives the defaults, an unreadable one is an error the
    /// settings screen shows (the defaults are used meanwhile).
    pub fn load(config_dir: &Path) -> Result<Self, CoreError> {
        match std::fs::read_to_string(Self::path(config_dir)) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                CoreError::new(
                    "preferences_unreadable",
                    format!("the settings file cannot be read ({e}); defaults are used"),
                )
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(err) => Err(CoreError::new("preferences_unreadable", err.to_string())),
        }
    }

    /// Writes the file whole (beside it, then renamed).
    pub fn save(&self, config_dir: &Path) -> Result<(), CoreError> {
        let fail = |e: std::io::Error| CoreError::new("preferences_unsaved", e.to_string());
        std::fs::create_dir_all(config_dir).map_err(fail)?;
        let text = serde_json::to_vec_pretty(self).expect("plain data serialises");
        crate::files::write_whole(&Self::path(config_dir), &text).map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_round_trip_and_a_missing_file_gives_defaults() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(
            Preferences::load(dir.path()).expect("defaults"),
            Preferences::default()
        );
        let prefs = Preferences {
            language: Language::En,
            scanner: Some(ScannerSettings::for_port("/dev/ttyACM0")),
            ..Preferences::default()
        };
        prefs.save(dir.path()).expect("saved");
        assert_eq!(Preferences::load(dir.path()).expect("read"), prefs);
        std::fs::write(Preferences::path(dir.path()), b"{not json").expect("write");
        assert_eq!(
            Preferences::load(dir.path()).expect_err("broken").code,
            "preferences_unreadable"
        );
    }
}
