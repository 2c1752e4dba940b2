//! `hallmark hub serve` on a fresh data directory for a test: spawned on an ephemeral
//! loopback port, its URL read from what it prints, its output drained so it never blocks.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts a hub in `data`; the child (kill it when done) and its URL.
pub(crate) fn spawn_hub(data: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(["hub", "serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(u) = line.strip_prefix("hallmark hub: listening on ") {
            url = Some(u.trim().to_owned());
        }
        if line.contains("admin bootstrap token") {
            break;
        }
    }
    // keep reading, so the hub never writes into a closed pipe
    std::thread::spawn(move || lines.for_each(drop));
    (child, url.expect("the hub printed its address"))
}
