//! Tauri's build step: embeds tauri.conf.json, the capabilities and the icon.
//!
//! The package's manifest sits at the repository root, so the capabilities (what the window may
//! call: events, window controls) are named by path; without them every core command, events
//! included, is refused at run time.
fn main() {
    let attributes =
        tauri_build::Attributes::new().capabilities_path_pattern("src-tauri/capabilities/*.json");
    if let Err(err) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {err:#}");
    }
}
