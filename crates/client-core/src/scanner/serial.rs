//! The serial scanner's reader: a thread that owns the port, frames what it reads, and reports
//! scans and connection changes through a callback. When the port goes away (unplugged) it
//! watches the port list and reopens the port when it is back. Dropping the handle stops the
//! thread and closes the port.

use std::{
    io::ErrorKind,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use super::{LineFramer, ScanEvent, ScannerSettings, decode};

/// How often a lost port is looked for, and how long a read waits before checking for stop.
const POLL: Duration = Duration::from_millis(200);

/// Which serial ports exist now (the system's list; tests substitute their own).
pub trait PortList: Send + 'static {
    /// Whether `path` is present.
    fn present(&mut self, path: &str) -> bool;
}

/// The operating system's serial ports: `serialport::available_ports`, plus any path that exists
/// (stable `/dev/serial/by-id/…` links and virtual ports are not always listed).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemPorts;

impl PortList for SystemPorts {
    fn present(&mut self, path: &str) -> bool {
        std::path::Path::new(path).exists()
            || serialport::available_ports()
                .is_ok_and(|ports| ports.iter().any(|p| p.port_name == path))
    }
}

/// A port for the settings screen's picker.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PortChoice {
    pub path: String,
    /// Maker and product for USB scanners, when the system says.
    pub description: Option<String>,
}

/// The serial ports on this machine, USB ones described.
pub fn available_ports() -> Vec<PortChoice> {
    let mut ports: Vec<PortChoice> = serialport::available_ports()
        .unwrap_or_default()
        .into_iter()
        .map(|port| {
            let description = match port.port_type {
                serialport::SerialPortType::UsbPort(usb) => {
                    let text = [usb.manufacturer, usb.product]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    Some(if text.is_empty() {
                        format!("USB {:04x}:{:04x}", usb.vid, usb.pid)
                    } else {
                        text
                    })
                }
                _ => None,
            };
            PortChoice {
                path: port.port_name,
                description,
            }
        })
        .collect();
    ports.sort_by(|a, b| a.path.cmp(&b.path));
    ports
}

/// A running reader. Stops (and closes the port) when dropped; dropping waits for the reader
/// to notice, up to one read timeout (200 ms), so drop it off the UI thread.
#[derive(Debug)]
pub struct SerialScanner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SerialScanner {
    /// Starts reading `settings.port`, reporting to `on_event` from the reader thread.
    pub fn start(
        settings: ScannerSettings,
        ports: impl PortList,
        on_event: impl FnMut(ScanEvent) + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("sentra-scanner".into())
            .spawn(move || read_forever(&settings, ports, on_event, &flag))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for SerialScanner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // A panicking callback has already been reported by the panic hook.
            let _ = thread.join();
        }
    }
}

fn read_forever(
    settings: &ScannerSettings,
    mut ports: impl PortList,
    mut on_event: impl FnMut(ScanEvent),
    stop: &AtomicBool,
) {
    let mut framer = LineFramer::new(settings.line_ending);
    let mut last_problem: Option<String> = None;
    while !stop.load(Ordering::Relaxed) {
        let opened = serialport::new(&settings.port, settings.baud_rate)
            .timeout(POLL)
            .open();
        let mut port = match opened {
            Ok(port) => port,
            Err(err) => {
                // Say it once, then wait for the port list to show the port again.
                let reason = err.to_string();
                if last_problem.as_ref() != Some(&reason) {
                    on_event(ScanEvent::Disconnected {
                        port: settings.port.clone(),
                        reason: reason.clone(),
                    });
                    last_problem = Some(reason);
                }
                wait_for_port(&settings.port, &mut ports, stop);
                continue;
            }
        };
        last_problem = None;
        on_event(ScanEvent::Connected {
            port: settings.port.clone(),
        });
        let reason = read_until_lost(&mut *port, &mut framer, &mut on_event, stop);
        framer.reset();
        if let Some(reason) = reason {
            on_event(ScanEvent::Disconnected {
                port: settings.port.clone(),
                reason: reason.clone(),
            });
            last_problem = Some(reason);
            // A port that opens and fails at once must not become a busy loop.
            wait_for_port(&settings.port, &mut ports, stop);
        }
    }
}

/// Reads until the port fails (`Some(reason)`) or stop is asked (`None`).
fn read_until_lost(
    port: &mut dyn serialport::SerialPort,
    framer: &mut LineFramer,
    on_event: &mut impl FnMut(ScanEvent),
    stop: &AtomicBool,
) -> Option<String> {
    let mut buf = [0_u8; 512];
    while !stop.load(Ordering::Relaxed) {
        match port.read(&mut buf) {
            Ok(0) => return Some("the scanner was disconnected".to_owned()),
            Ok(n) => {
                for framed in framer.push(&buf[..n]) {
                    on_event(ScanEvent::Scan(framed.and_then(|line| decode(&line))));
                }
            }
            Err(err) if matches!(err.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(err) => return Some(format!("the scanner was disconnected: {err}")),
        }
    }
    None
}

fn wait_for_port(path: &str, ports: &mut impl PortList, stop: &AtomicBool) {
    // One look per POLL: the port list is the only way to learn the scanner is back.
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(POLL);
        if ports.present(path) {
            return;
        }
    }
}
