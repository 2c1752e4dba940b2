//! SIGPIPE: a reader that closes stdout early (`hallmark … | head`) ends the binary quietly
//! with status 141 (what shells report for a process SIGPIPE killed, so pipelines and
//! `pipefail` see what they always saw), with no panic; a closed stderr leaves the exit
//! status to tell the outcome (it was death by signal 13); a hub that closes the socket
//! mid-upload makes `push` fail with an error naming the upload, not die of the signal.
//! (ureq sends with `MSG_NOSIGNAL`, so `push` never raised SIGPIPE: the test guards against
//! a change to an HTTP client that writes with `writev`, as hyper does.)

use std::os::unix::process::ExitStatusExt as _;
use std::process::{Command, Stdio};

/// The status the binary ends with when its stdout reader went away.
const CLOSED_STDOUT: i32 = 141;

/// Runs `hallmark ARGS` with stderr a pipe whose reading end is already closed: the exit
/// status.
fn run_with_closed_stderr(args: &[&str]) -> std::process::ExitStatus {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(writer)
        .status()
        .unwrap()
}

#[test]
fn a_closed_stderr_keeps_the_verdicts_exit_status() {
    // An unreadable input: the error goes to the closed stderr; the status still says 2.
    let status = run_with_closed_stderr(&["digest", "/nonexistent/model"]);
    assert_eq!(status.signal(), None, "killed by a signal: {status:?}");
    assert_eq!(status.code(), Some(2), "{status:?}");
}

/// Runs `hallmark ARGS` with stdout a pipe whose reading end is already closed (every
/// write fails with EPIPE): returns the exit status and stderr.
fn run_with_closed_stdout(args: &[&str]) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let model = tempfile::tempdir().unwrap();
    std::fs::write(model.path().join("w.bin"), b"weights").unwrap();
    let model = model.path().to_str().unwrap().to_owned();
    // Command output (`outln!`), clap_complete's writer, and clap's own help.
    for args in [
        vec!["digest", model.as_str()],
        vec!["completions", "bash"],
        vec!["--help"],
    ] {
        let (status, stderr) = run_with_closed_stdout(&args);
        assert_eq!(
            status.signal(),
            None,
            "hallmark {args:?} was killed by a signal: {status:?} {stderr}"
        );
        assert!(
            status.code() == Some(CLOSED_STDOUT) || (args == ["--help"] && status.success()),
            "hallmark {args:?}: {status:?} {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "hallmark {args:?} should end quietly: {stderr}"
        );
    }
}

/// `push` against a hub that closes mid-upload.
#[cfg(feature = "client")]
mod upload {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::net::{Shutdown, TcpListener};
    use std::os::unix::process::ExitStatusExt as _;
    use std::process::{Command, Stdio};

    /// Bytes of the file pushed: far more than the loopback socket buffers hold, so the client
    /// is still writing when the hub closes.
    const UPLOAD: u64 = 64 << 20;

    /// A hub that opens an upload, then answers the file's PUT with 413 after its headers and
    /// closes: FIN first (the client's socket goes to CLOSE_WAIT), then RST for the unread body,
    /// after which the client's next write fails with EPIPE (and raises SIGPIPE unless it was
    /// sent with `MSG_NOSIGNAL`).
    fn closing_hub() -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if line.trim().is_empty() {
                        break;
                    }
                }
                seen.push(request_line.trim().to_owned());
                if request_line.starts_with("POST") {
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let answer = br#"{"upload_id":"u1"}"#;
                    write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
                        answer.len()
                    )
                    .unwrap();
                    stream.write_all(answer).unwrap();
                    // This server reads one request per connection: `connection: close` keeps
                    // the client from sending its PUT down this socket after it is dropped
                    // (under load that PUT met the closed socket and never reached the server).
                    continue;
                }
                if request_line.starts_with("PUT") {
                    let mut few = [0u8; 16];
                    reader.read_exact(&mut few).unwrap();
                    let answer = br#"{"error":"file too large"}"#;
                    let _ = write!(
                        stream,
                        "HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
                        answer.len()
                    );
                    let _ = stream.write_all(answer);
                    let _ = stream.shutdown(Shutdown::Write);
                    // Give the FIN a moment to arrive before the RST of the close.
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    drop(reader);
                    drop(stream);
                    continue;
                }
                // The DELETE of the failed upload, or anything else: end the test server.
                let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n");
                break;
            }
            seen
        });
        (url, handle)
    }

    #[test]
    fn a_hub_closing_mid_upload_is_an_error_not_a_signal() {
        let model = tempfile::tempdir().unwrap();
        let weights = std::fs::File::create(model.path().join("w.bin")).unwrap();
        weights.set_len(UPLOAD).unwrap();
        drop(weights);
        let (hub, server) = closing_hub();
        let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
            .args(["push", model.path().to_str().unwrap(), "alice/model"])
            .args(["--hub", &hub, "--token", "t", "--quiet", "--jobs", "1"])
            .env_remove("HALLMARK_TOKEN")
            .env("XDG_CONFIG_HOME", model.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.signal(),
            None,
            "push was killed by a signal instead of reporting the failure: {:?} {stderr}",
            out.status
        );
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("uploading w.bin"),
            "the error should name the failed upload: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        // Unblock the server if the client never sent its DELETE.
        let _ = std::net::TcpStream::connect(hub.trim_start_matches("http://"));
        let seen = server.join().unwrap();
        assert!(seen.iter().any(|r| r.starts_with("PUT")), "{seen:?}");
    }
}
