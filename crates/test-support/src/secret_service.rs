//! A private Secret Service for keychain tests: a D-Bus session bus (`dbus-daemon`) listening on
//! a socket in a temporary directory, and GNOME Keyring (`gnome-keyring-daemon`) on that bus with
//! a throwaway login keyring unlocked by a known password. Nothing of the machine's own desktop
//! session is touched.
//!
//! A process uses it through `DBUS_SESSION_BUS_ADDRESS` = [`SecretService::bus_address`]; tests
//! run their keychain scenario in a child process given that variable (a test cannot change its
//! own environment safely while other tests run).

use std::{
    io::Write,
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use anyhow::Context;

use crate::process::{KillOnDrop, find_program, service_tempdir, spawn_tied, wait_until};

/// A running session bus with a Secret Service on it. Both stop on drop.
#[derive(Debug)]
pub struct SecretService {
    address: String,
    // Dropped in this order: the keyring, then its bus, then the directory.
    _keyring: KillOnDrop,
    _bus: KillOnDrop,
    dir: tempfile::TempDir,
}

impl SecretService {
    /// Starts the bus, then GNOME Keyring, and waits until `org.freedesktop.secrets` is owned.
    pub fn start() -> anyhow::Result<Self> {
        let dbus_daemon = find_program("dbus-daemon", &[])?;
        let keyring_daemon = find_program("gnome-keyring-daemon", &[])?;
        let dir = service_tempdir("sentra-test-keyring-")?;
        let address = format!("unix:path={}", dir.path().join("bus").display());
        let bus_log = dir.path().join("dbus.log");
        let mut command = Command::new(dbus_daemon);
        command
            .args(["--session", "--nofork", "--nopidfile"])
            .arg(format!("--address={address}"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&bus_log)?)
            .stderr(std::fs::File::create(dir.path().join("dbus.err"))?);
        // Guarded before each wait: a daemon that never gets ready is stopped too.
        let mut bus = KillOnDrop(spawn_tied(command).context("starting dbus-daemon")?);
        wait_until(
            "dbus-daemon",
            &mut bus.0,
            &bus_log,
            Duration::from_secs(20),
            || name_has_owner(&address, "org.freedesktop.DBus"),
        )?;
        let home = dir.path();
        let runtime = home.join("run");
        std::fs::create_dir_all(&runtime)?;
        std::fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )?;
        let keyring_log = home.join("gnome-keyring.log");
        let mut command = Command::new(keyring_daemon);
        command
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(std::fs::File::create(&keyring_log)?)
            .stderr(std::fs::File::create(home.join("gnome-keyring.err"))?);
        let mut keyring = KillOnDrop(spawn_tied(command).context("starting gnome-keyring-daemon")?);
        // The login keyring's password, then end of input: `--unlock` reads it from stdin.
        if let Some(mut stdin) = keyring.0.stdin.take() {
            stdin.write_all(b"sentra-test-keyring")?;
        }
        wait_until(
            "gnome-keyring-daemon",
            &mut keyring.0,
            &home.join("gnome-keyring.err"),
            Duration::from_secs(20),
            || name_has_owner(&address, "org.freedesktop.secrets"),
        )?;
        Ok(Self {
            address,
            _keyring: keyring,
            _bus: bus,
            dir,
        })
    }

    /// The value for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn bus_address(&self) -> &str {
        &self.address
    }

    /// The throwaway home directory (its `data/keyrings` holds the keyring file).
    pub fn home(&self) -> &Path {
        self.dir.path()
    }
}

/// Asks the bus whether `name` has an owner (`dbus-send`, from the `dbus` package).
fn name_has_owner(address: &str, name: &str) -> bool {
    Command::new("dbus-send")
        .arg(format!("--bus={address}"))
        .args([
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
        ])
        .arg(format!("string:{name}"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| {
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("boolean true")
        })
}
