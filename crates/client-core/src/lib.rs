//! Everything the desktop app does, without Tauri, so it is testable with plain `cargo test`.
//!
//! The Tauri shell (`src-tauri/`) only forwards commands here. Errors leave this crate as
//! [`CoreError`], which carries a stable `code` the UI translates and an English `message`.

pub mod counter;
pub mod error;
pub mod files;
pub mod keychain;
pub mod lookup;
pub mod preferences;
pub mod printer;
pub mod scanner;
pub mod session;
pub mod settings;
pub mod status;
pub mod store;
pub mod sync;
pub mod sync_loop;

pub use error::CoreError;
pub use keychain::Keychain;
pub use session::{Resumed, Session, SignedIn};
pub use settings::{DEFAULT_SERVER_URL, DesktopSettings};
pub use status::{ServerStatus, server_status};
