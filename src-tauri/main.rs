//! The desktop app's entry point; everything else is in `lib.rs`.
// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    sentra_desktop::run();
}
