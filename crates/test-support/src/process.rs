//! Child-process plumbing shared by the service starters: free ports, dropping root privileges,
//! tying children's lives to this process, bounded readiness waits, and clean-up.

use std::{
    fs,
    io::{Read, Seek, SeekFrom},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command},
    sync::{Mutex, OnceLock, mpsc},
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

/// A loopback TCP port that was free a moment ago.
///
/// Another process may take it before the service binds it; starters retry with a new port when
/// the service reports the address in use.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("no free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// The account services that refuse root (Postgres) run as, when this process is root.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServiceUser {
    pub uid: u32,
    pub gid: u32,
}

/// `Some(postgres user)` when running as root, `None` when already unprivileged.
pub(crate) fn unprivileged_user() -> anyhow::Result<Option<ServiceUser>> {
    // SAFETY-free: geteuid has no preconditions, but libc calls are `unsafe` in Rust.
    #[expect(unsafe_code, reason = "geteuid(2) is always safe to call")]
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    for line in passwd.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() > 3 && fields[0] == "postgres" {
            return Ok(Some(ServiceUser {
                uid: fields[2].parse()?,
                gid: fields[3].parse()?,
            }));
        }
    }
    bail!(
        "running as root, and there is no `postgres` account to run PostgreSQL as \
         (PostgreSQL refuses to run as root); install the postgresql package or run as a normal user"
    )
}

/// Gives `path` to `user` (recursively not needed: called on fresh, empty directories).
pub(crate) fn chown(path: &Path, user: ServiceUser) -> anyhow::Result<()> {
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
        .with_context(|| format!("chown {}", path.display()))
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Spawns `command` so that the child receives SIGKILL if this process dies without cleaning up.
///
/// Linux delivers the parent-death signal when the *thread* that forked the child exits, so all
/// children are forked by one long-lived spawner thread rather than by short-lived test threads.
pub fn spawn_tied(mut command: Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    #[expect(
        unsafe_code,
        reason = "pre_exec runs between fork and exec; prctl is async-signal-safe"
    )]
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Our own signal group: a Ctrl-C at the terminal reaches us, and we stop children in order.
            libc::setpgid(0, 0);
            Ok(())
        });
    }
    let sender = SPAWNER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<SpawnRequest>();
            thread::Builder::new()
                .name("sentra-test-spawner".into())
                .spawn(move || {
                    for (mut cmd, reply) in rx {
                        let _ = reply.send(cmd.spawn());
                    }
                })
                .expect("spawning the spawner thread");
            Mutex::new(tx)
        })
        .lock()
        .map_err(|_| std::io::Error::other("spawner lock poisoned"))?
        .clone();
    let (reply_tx, reply_rx) = mpsc::channel();
    sender
        .send((command, reply_tx))
        .map_err(|_| std::io::Error::other("spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| std::io::Error::other("spawner thread is gone"))?
}

/// A child process killed (SIGKILL) and reaped when this guard drops.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        stop_child(&mut self.0, libc::SIGTERM, Duration::from_secs(5));
    }
}

/// Polls `ready` until it returns true, failing early if `child` exits, and after `limit`.
///
/// This waits on a real readiness condition (the service answers), never on a fixed sleep.
pub(crate) fn wait_until(
    what: &str,
    child: &mut Child,
    log: &Path,
    limit: Duration,
    mut ready: impl FnMut() -> bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        if ready() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!(
                "{what} exited ({status}) before it was ready:\n{}",
                log_tail(log)
            );
        }
        if started.elapsed() > limit {
            bail!("{what} was not ready after {limit:?}:\n{}", log_tail(log));
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// The last lines of a log file, for error messages.
pub(crate) fn log_tail(path: &Path) -> String {
    let Ok(mut file) = fs::File::open(path) else {
        return format!("(no log at {})", path.display());
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(4096)));
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    text
}

/// Sends `signal` to `child` and waits for it to exit (SIGKILL after `grace`).
pub(crate) fn stop_child(child: &mut Child, signal: i32, grace: Duration) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let pid = libc::pid_t::try_from(child.id()).unwrap_or(0);
    #[expect(unsafe_code, reason = "kill(2) on our own child's pid")]
    unsafe {
        libc::kill(pid, signal);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Sends `signal` to a running child (pause, resume, crash).
pub(crate) fn send_signal(child: &Child, signal: i32) {
    let pid = libc::pid_t::try_from(child.id()).unwrap_or(0);
    #[expect(unsafe_code, reason = "kill(2) on our own child's pid")]
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Stops the child held in `slot`, if any is still there (shared by the services' stop/kill).
pub(crate) fn stop_slot(slot: &Mutex<Option<Child>>, signal: i32, grace: Duration) {
    let child = slot.lock().ok().and_then(|mut guard| guard.take());
    if let Some(mut child) = child {
        stop_child(&mut child, signal, grace);
    }
}

/// Registers `f` to run at normal process exit (the Rust test runner exits through `exit(3)`).
pub(crate) fn at_exit(f: extern "C" fn()) {
    #[expect(unsafe_code, reason = "atexit(3) with a plain extern fn")]
    unsafe {
        libc::atexit(f);
    }
}

/// A temporary directory that unprivileged services can traverse.
pub(crate) fn service_tempdir(prefix: &str) -> anyhow::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    remove_stale_dirs(prefix);
    let dir = tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .tempdir()
        .context("creating a temporary directory")?;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))?;
    Ok(dir)
}

/// Deletes temporary directories left by test processes that no longer exist (killed runs).
fn remove_stale_dirs(prefix: &str) {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Finds an executable on PATH, then in `fallback_dirs`.
pub(crate) fn find_program(name: &str, fallback_dirs: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(fallback_dirs.iter().cloned())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .with_context(|| {
            format!(
                "`{name}` was not found on PATH; run `make setup` (scripts/setup.sh) to install it"
            )
        })
}
