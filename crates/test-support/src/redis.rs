//! Real Redis for tests: single nodes (one per Redlock node, or shared with a key prefix per
//! test) and a small 3-master Redis Cluster.

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Mutex, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use std::fmt::Write as _;

use anyhow::{Context, bail};

use crate::process::{
    at_exit, find_program, free_port, send_signal, service_tempdir, spawn_tied, stop_child,
    stop_slot, wait_until,
};

/// A key prefix no other test in this process uses, like `t4242-7:`.
pub fn unique_key_prefix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "t{}-{}:",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// One running `redis-server`. Stopped and deleted on drop.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Mutex<Option<Child>>,
    dir: Mutex<Option<tempfile::TempDir>>,
    log: PathBuf,
    /// The data directory (kept across [`RedisServer::restart`]).
    data: PathBuf,
    /// The extra `redis-server` arguments it was started with (reused by a restart).
    extra_args: Vec<String>,
}

impl RedisServer {
    /// Starts a stand-alone node on a free port, without persistence.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(&[])
    }

    /// Starts a node with extra `redis-server` arguments (e.g. cluster mode).
    pub fn start_with(extra_args: &[&str]) -> anyhow::Result<Self> {
        let dir = service_tempdir("sentra-test-redis-")?;
        let data = dir.path().to_path_buf();
        let log = dir.path().join("redis.log");
        let extra_args: Vec<String> = extra_args.iter().map(|a| (*a).to_owned()).collect();
        let mut last_error = None;
        for _attempt in 0..5 {
            let port = free_port()?;
            match spawn_node(port, &data, &log, &extra_args) {
                Ok(child) => {
                    return Ok(Self {
                        port,
                        child: Mutex::new(Some(child)),
                        dir: Mutex::new(Some(dir)),
                        log,
                        data,
                        extra_args,
                    });
                }
                Err(e) if e.to_string().contains("Address already in use") => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("redis-server did not start")))
    }

    /// Starts a node that keeps its data across a crash: every write is appended and fsynced
    /// to its append-only file before it is acknowledged, so [`RedisServer::kill`] followed by
    /// [`RedisServer::restart`] brings back exactly what was acknowledged.
    pub fn start_durable() -> anyhow::Result<Self> {
        Self::start_with(&["--appendonly", "yes", "--appendfsync", "always"])
    }

    /// Starts the node again on the same port and data directory (after [`RedisServer::kill`]
    /// or [`RedisServer::stop`]-less crashes); waits until it answers.
    pub fn restart(&self) -> anyhow::Result<()> {
        stop_slot(&self.child, libc::SIGKILL, Duration::from_secs(5));
        let child = spawn_node(self.port, &self.data, &self.log, &self.extra_args)?;
        *self
            .child
            .lock()
            .map_err(|_| anyhow::anyhow!("redis child lock poisoned"))? = Some(child);
        Ok(())
    }

    /// Freezes the node (SIGSTOP): connections stay open, nothing is answered, like a node
    /// stalled by the host. [`RedisServer::resume`] lets it go on.
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// Lets a paused node run again (SIGCONT).
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, signal: i32) {
        if let Ok(guard) = self.child.lock()
            && let Some(child) = guard.as_ref()
        {
            send_signal(child, signal);
        }
    }

    /// The test binary's shared node, stopped at process exit. Use [`unique_key_prefix`].
    pub fn shared() -> anyhow::Result<&'static RedisServer> {
        static SHARED: OnceLock<anyhow::Result<RedisServer>> = OnceLock::new();
        extern "C" fn stop_shared() {
            if let Some(Ok(server)) = SHARED.get() {
                server.stop();
            }
        }
        SHARED
            .get_or_init(|| {
                let server = RedisServer::start();
                if server.is_ok() {
                    at_exit(stop_shared);
                }
                server
            })
            .as_ref()
            .map_err(|e| anyhow::anyhow!("starting the shared Redis failed: {e:#}"))
    }

    /// The port (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The node's log file.
    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }

    /// Kills the node at once (SIGKILL), as a crash would. Its data directory stays until drop.
    pub fn kill(&self) {
        stop_slot(&self.child, libc::SIGKILL, Duration::from_secs(5));
    }

    /// Stops the node and deletes its directory. Idempotent.
    pub fn stop(&self) {
        // A paused node would sit on SIGTERM until the grace period ran out.
        self.resume();
        stop_slot(&self.child, libc::SIGTERM, Duration::from_secs(5));
        if let Ok(mut dir) = self.dir.lock() {
            dir.take();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A Redis Cluster of three masters (no replicas) on loopback.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three cluster-mode nodes, assigns all 16384 slots and waits for `cluster_state:ok`.
    pub fn start() -> anyhow::Result<Self> {
        let nodes = (0..3)
            .map(|_| {
                RedisServer::start_with(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "5000",
                ])
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let redis_cli = find_program("redis-cli", &[])?;
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let output = Command::new(redis_cli)
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .context("running redis-cli --cluster create")?;
        if !output.status.success() {
            bail!(
                "redis-cli --cluster create failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        for node in &nodes {
            let port = node.port();
            let mut guard = node.child.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            let child = guard.as_mut().context("cluster node is not running")?;
            wait_until(
                "redis cluster",
                child,
                &node.log,
                Duration::from_secs(30),
                || {
                    command(port, &["CLUSTER", "INFO"])
                        .is_ok_and(|info| info.contains("cluster_state:ok"))
                },
            )?;
        }
        Ok(Self { nodes })
    }

    /// Seed URLs of every node (`redis://127.0.0.1:<port>`).
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The nodes (to kill one in a fault test).
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }
}

/// Spawns `redis-server` on `port` with its data and log in `data`, and waits until it answers.
fn spawn_node(port: u16, data: &Path, log: &Path, extra_args: &[String]) -> anyhow::Result<Child> {
    let redis_server = find_program("redis-server", &[])?;
    let mut command = Command::new(&redis_server);
    command
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
        .arg("--dir")
        .arg(data)
        .arg("--logfile")
        .arg(log)
        .args(extra_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = spawn_tied(command).context("starting redis-server")?;
    match wait_until(
        "redis-server",
        &mut child,
        log,
        Duration::from_secs(30),
        || ping(port),
    ) {
        Ok(()) => Ok(child),
        Err(e) => {
            stop_child(&mut child, libc::SIGKILL, Duration::from_secs(5));
            Err(e)
        }
    }
}

/// True when a node answers PING with PONG.
fn ping(port: u16) -> bool {
    command(port, &["PING"]).is_ok_and(|reply| reply == "PONG")
}

/// Sends one command in RESP and returns a simple or bulk string reply (enough for readiness).
fn command(port: u16, args: &[&str]) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        let _ = write!(request, "${}\r\n{arg}\r\n", arg.len());
    }
    stream.write_all(request.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    reader.read_line(&mut first)?;
    let first = first.trim_end();
    if let Some(simple) = first.strip_prefix('+') {
        return Ok(simple.to_owned());
    }
    if let Some(len) = first.strip_prefix('$') {
        let len: usize = len.parse()?;
        let mut body = vec![0; len + 2];
        std::io::Read::read_exact(&mut reader, &mut body)?;
        body.truncate(len);
        return Ok(String::from_utf8(body)?);
    }
    bail!("unexpected reply {first:?}")
}
