//! Witness policies: parsing rules and k-of-n checks over cosigned notes.

use hallmark_tlog::note::parse_note;
use hallmark_witness::{Cosigner, Policy, PolicyCheckError};

use crate::TestLog;

fn cosign_note(log: &TestLog, n: u64, by: &[&Cosigner]) -> String {
    let mut note = log.checkpoint(n);
    let body = parse_note(&note).unwrap().0.to_owned();
    for c in by {
        note.push_str(&format!("{}\n", c.cosign(&body, 1_700_000_000)));
    }
    note
}

#[test]
fn two_of_three_and_nested_groups() {
    let mut log = TestLog::new("log.example/a");
    log.grow(5, 0);
    let w: Vec<Cosigner> = (1..=4)
        .map(|i| Cosigner::generate(&format!("w{i}.example")).unwrap())
        .collect();
    let text = format!(
        "# hub witnesses\nlog {} https://log.example/a\n\twitness A {} https://w1.example\nwitness B {}\nwitness C {}\nwitness D {}\ngroup abc 2 A B C\ngroup top all abc D\nquorum abc\n",
        log.vkey(),
        w[0].verifier(),
        w[1].verifier(),
        w[2].verifier(),
        w[3].verifier()
    );
    let p = Policy::parse(&text).unwrap();
    assert_eq!(p.witnesses().len(), 4);
    assert_eq!(p.witnesses()[0].url.as_deref(), Some("https://w1.example"));
    let ok = p.check(&cosign_note(&log, 5, &[&w[0], &w[2]])).unwrap();
    assert_eq!(ok.cosigned, ["A", "C"]);
    assert_eq!(ok.checkpoint.size, 5);
    // One of three: refused, naming who cosigned and the group.
    let e = p.check(&cosign_note(&log, 5, &[&w[1], &w[3]])).unwrap_err();
    let PolicyCheckError::QuorumNotMet {
        quorum,
        cosigned,
        detail,
        ..
    } = &e
    else {
        panic!("{e}");
    };
    assert_eq!(
        (quorum.as_str(), cosigned.clone()),
        ("abc", vec!["B".to_owned(), "D".to_owned()])
    );
    assert!(
        detail.contains("group abc needs 2 of [A, B, C], has 1"),
        "{detail}"
    );
    // A cosignature that does not verify (another checkpoint's) rejects the note.
    let other = cosign_note(&log, 4, &[&w[0]]);
    let stolen = other.lines().last().unwrap();
    let bad = format!("{}{stolen}\n", cosign_note(&log, 5, &[&w[1]]));
    assert!(matches!(
        p.check(&bad),
        Err(PolicyCheckError::BadCosignature { .. })
    ));
    // Nested: all of (2 of abc) and D.
    let p2 = Policy::parse(&text.replace("quorum abc", "quorum top")).unwrap();
    assert!(p2.check(&cosign_note(&log, 5, &[&w[0], &w[1]])).is_err());
    p2.check(&cosign_note(&log, 5, &[&w[0], &w[1], &w[3]]))
        .unwrap();
    // Another log's checkpoint, even fully cosigned, is refused naming its origin.
    let mut stranger = TestLog::new("log.example/b");
    stranger.grow(1, 0);
    let e = p
        .check(&cosign_note(&stranger, 1, &[&w[0], &w[1], &w[2]]))
        .unwrap_err();
    assert!(e.to_string().contains("log.example/b"), "{e}");
    // quorum none: the log signature alone.
    let none = Policy::parse(&format!("log {}\nquorum none\n", log.vkey())).unwrap();
    none.check(&log.checkpoint(5)).unwrap();
}

#[test]
fn malformed_policies_name_the_line() {
    let log = TestLog::new("log.example/a");
    let w = Cosigner::generate("w.example").unwrap().verifier();
    let v = Cosigner::generate("v.example").unwrap().verifier();
    let l = log.vkey();
    for (text, line, what) in [
        (format!("witness A {w}\n"), 0, "no quorum"),
        (format!("witness A {w}\nquorum B\n"), 2, "not defined"),
        (
            format!("witness A {w}\nwitness A {v}\nquorum A\n"),
            2,
            "defined twice",
        ),
        (
            format!("witness A {w}\nwitness B {w}\nquorum A\n"),
            2,
            "listed twice",
        ),
        (
            format!("witness A {w}\ngroup g 2 A\nquorum g\n"),
            2,
            "threshold",
        ),
        (
            format!("witness A {w}\ngroup g any A A\nquorum g\n"),
            2,
            "listed twice",
        ),
        (
            format!("witness A {w}\nquorum A\nquorum A\n"),
            3,
            "second quorum",
        ),
        (
            format!("witness A {l}\nquorum A\n"),
            1,
            "not cosignature/v1",
        ),
        (
            format!("log {w}\nquorum none\n"),
            1,
            "not a checkpoint key type",
        ),
        (format!("witness none {w}\nquorum none\n"), 1, "reserved"),
        ("quorum none\nbanana\n".to_owned(), 2, "cannot parse"),
        ("quorum none\x0b\n".to_owned(), 1, "control character"),
    ] {
        let e = Policy::parse(&text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.to_string().contains(what), "{text:?}: {e}");
    }
}
