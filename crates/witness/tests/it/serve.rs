//! The witness's checks (C2SP tlog-witness statuses), its durable state, and the HTTP
//! client against the HTTP server.

use std::sync::Arc;

use hallmark_tlog::note::{Checkpoint, LogKey, parse_note, sign_checkpoint};
use hallmark_tlog::notekey::NoteVerifier;
use hallmark_witness::wire::{AddCheckpointRequest, MAX_REQUEST_BYTES};
use hallmark_witness::{AddCheckpointError, LogsConfig, Refusal, Witness};

use crate::TestLog;

fn body(old: u64, proof: &[[u8; 32]], note: &str) -> Vec<u8> {
    AddCheckpointRequest {
        old_size: old,
        proof: proof.to_vec(),
        checkpoint: note.to_owned(),
    }
    .encode()
    .into_bytes()
}

fn add(w: &Witness, log: &TestLog, old: u64, new: u64) -> Result<(), Refusal> {
    let note = log.checkpoint(new);
    let line = w.add_checkpoint(&body(old, &log.proof(old, new), &note))?;
    let (text, _) = parse_note(&note).unwrap();
    w.key().verify(&line, text).unwrap();
    assert!(line.timestamp > 0);
    Ok(())
}

#[test]
fn refusals_follow_tlog_witness() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = TestLog::new("log.example/a");
    a.grow(16, 0);
    let mut fork = TestLog {
        key: hallmark_tlog::Ed25519NoteKey::from_skey(&a.key.skey()).unwrap(),
        origin: a.origin.clone(),
        leaves: a.leaves[..3].to_vec(),
    };
    fork.grow(16, 1);
    let mut fresh = TestLog::new("log.example/fresh");
    fresh.grow(4, 0);
    let ecdsa = LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap();
    let mut cfg = LogsConfig::parse(&format!(
        "# witnessed logs\nlog {} {}\nlog {} {}\n",
        a.origin,
        a.vkey(),
        fresh.origin,
        fresh.vkey()
    ))
    .unwrap();
    cfg.add(
        "rekor.example - 7",
        NoteVerifier::named("rekor.example", ecdsa.verifier().clone()).unwrap(),
    );
    // A Rekor v1 origin (with spaces) parses from config text too.
    let v1 = NoteVerifier::named("rekor.example", ecdsa.verifier().clone()).unwrap();
    let mut one = LogsConfig::default();
    one.add("rekor.example - 7", v1.clone());
    assert_eq!(
        LogsConfig::parse(&format!("log rekor.example - 7 {}\n", v1.vkey())).unwrap(),
        one
    );
    let w = Witness::open(dir.path(), "witness.example/w1", cfg.clone()).unwrap();

    add(&w, &a, 0, 5).unwrap();
    assert_eq!(add(&w, &a, 0, 6), Err(Refusal::Conflict { known_size: 5 }));
    add(&w, &a, 5, 8).unwrap();
    add(&w, &a, 8, 8).unwrap();
    // The fork: same origin and key, other leaves from index 3.
    let e = add(&w, &fork, 8, 8).unwrap_err();
    assert_eq!(e.status(), 422, "{e}");
    let e = add(&w, &fork, 8, 12).unwrap_err();
    assert_eq!(e.status(), 422, "{e}");
    // A proof of the right history but the wrong length.
    let note = a.checkpoint(12);
    let mut p = a.proof(8, 12);
    p.pop();
    assert_eq!(
        w.add_checkpoint(&body(8, &p, &note)).unwrap_err().status(),
        422
    );
    assert_eq!(add(&w, &a, 13, 12).unwrap_err().status(), 400);
    // Unknown origin, a foreign key, a bad signature by the right key.
    let other = TestLog::new("log.example/other");
    assert_eq!(add(&w, &other, 0, 0).unwrap_err().status(), 404);
    let impostor = TestLog {
        key: TestLog::new("log.example/a").key,
        ..fork
    };
    assert_eq!(add(&w, &impostor, 8, 8).unwrap_err().status(), 403);
    let tampered = a.checkpoint(8).replacen("\n8\n", "\n9\n", 1);
    assert_eq!(
        w.add_checkpoint(&body(8, &[], &tampered))
            .unwrap_err()
            .status(),
        403
    );
    // Size 0 must have the empty root; no proof from size 0.
    let zero = fresh
        .key
        .sign_checkpoint(&Checkpoint {
            origin: fresh.origin.clone(),
            size: 0,
            root: [7; 32],
        })
        .unwrap();
    assert_eq!(
        w.add_checkpoint(&body(0, &[], &zero.text))
            .unwrap_err()
            .status(),
        422
    );
    let note = fresh.checkpoint(4);
    assert_eq!(
        w.add_checkpoint(&body(0, &[[1; 32]], &note))
            .unwrap_err()
            .status(),
        422
    );
    assert_eq!(
        w.add_checkpoint(&body(0, &[[1; 32]; 64], &note))
            .unwrap_err()
            .status(),
        400
    );
    // ECDSA log keys (Rekor v1 style: key name = host, origin = "host - tree id").
    let cp = Checkpoint {
        origin: "rekor.example - 7".into(),
        size: 2,
        root: [2; 32],
    };
    let s = sign_checkpoint(&cp, "rekor.example", &ecdsa).unwrap();
    w.add_checkpoint(&body(0, &[], &s.text)).unwrap();
    assert_eq!(w.latest(&a.origin).unwrap().size, 8);

    // Restart: same key, same state; the key file is private; Debug hides the key.
    let vkey = w.key().to_string();
    drop(w);
    let w = Witness::open(dir.path(), "ignored-name", cfg).unwrap();
    assert_eq!(w.key().to_string(), vkey);
    assert_eq!(w.latest(&a.origin).unwrap().size, 8);
    assert_eq!(add(&w, &a, 0, 9), Err(Refusal::Conflict { known_size: 8 }));
    add(&w, &a, 8, 16).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    let key_path = dir.path().join("witness.key");
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let skey = std::fs::read_to_string(&key_path).unwrap();
    // PRIVATE+KEY+name+keyid+base64: the base64 field may itself contain '+'.
    let secret = skey.trim().splitn(5, '+').nth(4).unwrap();
    assert!(secret.len() >= 40, "{secret}");
    assert!(!format!("{w:?}").contains(secret));
    // A second process on the same directory is refused.
    let e = Witness::open(dir.path(), "x", LogsConfig::default()).unwrap_err();
    assert!(e.to_string().contains("in use"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_against_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = TestLog::new("log.example/a");
    a.grow(10, 0);
    let cfg = LogsConfig::parse(&format!("log {} {}\n", a.origin, a.vkey())).unwrap();
    let w = Arc::new(Witness::open(dir.path(), "witness.example/w1", cfg).unwrap());
    let key = w.key();
    let app = hallmark_witness::server::router(w);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let res = tokio::task::spawn_blocking(move || {
        let agent = ureq::Agent::new_with_defaults();
        let call = |old: u64, new: u64, log: &TestLog| {
            hallmark_witness::client::add_checkpoint(
                &agent,
                &url,
                old,
                &log.proof(old, new),
                &log.checkpoint(new),
            )
        };
        let lines = call(0, 4, &a).unwrap();
        assert_eq!(lines.len(), 1);
        let note = a.checkpoint(4);
        key.verify(&lines[0], parse_note(&note).unwrap().0).unwrap();
        assert_eq!(
            call(0, 6, &a).unwrap_err(),
            AddCheckpointError::Conflict { known_size: 4 }
        );
        call(4, 6, &a).unwrap();
        let mut nobody = TestLog::new("nobody");
        nobody.grow(1, 0);
        assert!(matches!(
            call(0, 1, &nobody),
            Err(AddCheckpointError::UnknownLog(_))
        ));
        let mut fork = TestLog {
            key: hallmark_tlog::Ed25519NoteKey::from_skey(&a.key.skey()).unwrap(),
            origin: a.origin.clone(),
            leaves: Vec::new(),
        };
        fork.grow(10, 9);
        assert!(matches!(
            call(6, 8, &fork),
            Err(AddCheckpointError::Inconsistent(_))
        ));
        // Over the body limit: refused before any parsing.
        let big = format!("old 0\n\n{}", "x".repeat(MAX_REQUEST_BYTES));
        let resp = agent
            .post(format!("{url}/add-checkpoint"))
            .config()
            .http_status_as_error(false)
            .build()
            .send(big.as_bytes())
            .unwrap();
        resp.status().as_u16()
    })
    .await
    .unwrap();
    assert_eq!(res, 413);
}
