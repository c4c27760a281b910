//! Desktop app tests: the Tauri commands through the mock runtime, and the real window under
//! Xvfb driven by WebKitWebDriver. Both talk to a real server with real Postgres and Redis.

mod commands;
mod counter;
mod pty;
mod server;
mod webdriver;
mod window;
