//! The server binary refuses a bad environment with one message listing every problem.

use std::process::Command;

#[test]
fn bad_configuration_lists_every_problem_and_exits_non_zero() {
    let output = Command::new(env!("CARGO_BIN_EXE_sentra-server"))
        .env_clear()
        .env("SENTRA_LISTEN_ADDR", "not-an-address")
        .env("SENTRA_LOG_FORMAT", "xml")
        .env("REDIS_URL", "http://secret-password@nowhere")
        .output()
        .expect("run sentra-server");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for name in [
        "SENTRA_LISTEN_ADDR",
        "DATABASE_URL",
        "REDIS_URL",
        "SENTRA_LOG_FORMAT",
        "SENTRA_JWT_SECRET",
        "SENTRA_LABEL_SECRET",
        "SENTRA_DATA_KEY",
    ] {
        assert!(stderr.contains(name), "{name} not reported in:\n{stderr}");
    }
    assert!(stderr.contains("7 problems"), "{stderr}");
    assert!(
        !stderr.contains("secret-password"),
        "values are never echoed:\n{stderr}"
    );
}

#[test]
fn help_lists_the_environment_variables() {
    let output = Command::new(env!("CARGO_BIN_EXE_sentra-server"))
        .arg("--help")
        .output()
        .expect("run sentra-server");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("DATABASE_URL") && stdout.contains("seed-demo"),
        "{stdout}"
    );
}
