//! The serial reader against pseudo-terminals: a `TTYPort::pair()` for framing and noise, and a
//! `socat` pty pair with stable links for unplugging and plugging the scanner back in.

use std::{
    io::Write,
    path::Path,
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use sentra_domain::label::{self, LabelKind};
use sentra_test_support::{KillOnDrop, spawn_tied};
use serialport::{SerialPort, TTYPort};
use uuid::Uuid;

use super::*;

const KEY: &[u8] = b"label-secret-for-tests-0123456789";
const WAIT: Duration = Duration::from_secs(10);

fn start(port: &str) -> (SerialScanner, mpsc::Receiver<ScanEvent>) {
    let (tx, rx) = mpsc::channel();
    let scanner = SerialScanner::start(ScannerSettings::for_port(port), SystemPorts, move |e| {
        let _ = tx.send(e);
    })
    .expect("reader thread");
    (scanner, rx)
}

fn next(rx: &mpsc::Receiver<ScanEvent>) -> ScanEvent {
    rx.recv_timeout(WAIT).expect("an event within the wait")
}

#[test]
fn scans_written_in_pieces_with_noise_between_reach_the_app() {
    let (mut device, app_side) = TTYPort::pair().expect("a pseudo-terminal pair");
    let path = app_side.name().expect("the pty has a name");
    let (scanner, rx) = start(&path);
    assert_eq!(next(&rx), ScanEvent::Connected { port: path.clone() });

    // Noise (a wrong baud rate looks like this), then a line longer than any code.
    device
        .write_all(b"\x00\xff\xfe garbage \x1b[A\r\n")
        .expect("write");
    assert_eq!(next(&rx), ScanEvent::Scan(Err(ScanProblem::NotText)));
    device.write_all(&[b'A'; MAX_LINE + 100]).expect("write");
    device.write_all(b"\r\n").expect("write");
    assert_eq!(next(&rx), ScanEvent::Scan(Err(ScanProblem::TooLong)));

    // A genuine asset label arriving in three pieces, as slow USB scanners send it.
    let asset = Uuid::now_v7();
    let code = label::sign(KEY, LabelKind::Asset, asset, 2);
    let (a, rest) = code.split_at(5);
    let (b, c) = rest.split_at(rest.len() / 2);
    for piece in [a, b, c, "\r", "\n"] {
        device.write_all(piece.as_bytes()).expect("write");
        device.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(20)); // a slow scanner, not a readiness wait
    }
    assert_eq!(
        next(&rx),
        ScanEvent::Scan(Ok(ScanTarget::Asset {
            id: asset,
            label_version: 2,
            payload: code
        }))
    );
    // A foreign barcode (a product EAN) is named, not ignored.
    device.write_all(b"8991234567890\r").expect("write");
    assert_eq!(next(&rx), ScanEvent::Scan(Err(ScanProblem::NotOurs)));
    drop(scanner);
    assert!(
        rx.recv_timeout(Duration::from_millis(50)).is_err(),
        "stopped: nothing more is reported"
    );
}

/// `socat` linking two ptys under stable names: the app's port and the "scanner's" end, which
/// stays open for socat's whole life (closing it would end socat by itself).
struct Socat {
    device: Box<dyn SerialPort>,
    child: KillOnDrop,
}

impl Socat {
    fn start(dir: &Path) -> Self {
        let app = dir.join("scanner");
        let device = dir.join("device");
        let mut command = Command::new("socat");
        command
            .arg(format!("pty,raw,echo=0,link={}", app.display()))
            .arg(format!("pty,raw,echo=0,link={}", device.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = KillOnDrop(spawn_tied(command).expect("socat is installed (scripts/setup.sh)"));
        let started = Instant::now();
        while !(app.exists() && device.exists()) {
            assert!(started.elapsed() < WAIT, "socat made no ptys");
            std::thread::sleep(Duration::from_millis(5));
        }
        let device = serialport::new(device.to_string_lossy(), 9600)
            .timeout(Duration::from_millis(100))
            .open()
            .expect("the device end opens");
        Self { device, child }
    }

    fn scan(&mut self, text: &str) {
        self.device.write_all(text.as_bytes()).expect("write");
        self.device.flush().expect("flush");
    }

    /// SIGTERM: socat removes its links, as a USB port disappears.
    fn unplug(self) {
        let Self { device, child } = self;
        drop(child);
        drop(device);
    }
}

#[test]
fn an_unplugged_scanner_is_reopened_when_it_is_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = dir.path().join("scanner").to_string_lossy().into_owned();
    let mut socat = Socat::start(dir.path());
    let (_scanner, rx) = start(&port);
    assert_eq!(next(&rx), ScanEvent::Connected { port: port.clone() });
    let booking = Uuid::now_v7();
    let code = label::sign(KEY, LabelKind::Booking, booking, 0);
    socat.scan(&format!("{code}\r\n"));
    assert!(
        matches!(next(&rx), ScanEvent::Scan(Ok(ScanTarget::Booking { id, .. })) if id == booking)
    );

    socat.unplug();
    assert!(matches!(next(&rx), ScanEvent::Disconnected { port: p, .. } if p == port));

    // Plugged back in: the port list shows it again, the reader reopens it, scans flow.
    let mut socat = Socat::start(dir.path());
    loop {
        match next(&rx) {
            ScanEvent::Connected { port: p } => {
                assert_eq!(p, port);
                break;
            }
            ScanEvent::Disconnected { .. } => {} // an open tried while the link was half made
            other @ ScanEvent::Scan(_) => panic!("unexpected {other:?}"),
        }
    }
    socat.scan(&format!("{code}\r\n"));
    assert!(
        matches!(next(&rx), ScanEvent::Scan(Ok(ScanTarget::Booking { id, .. })) if id == booking)
    );
}
