//! Our notes and cosignatures against an independent implementation: Cloudflare azul's
//! `signed_note` crate (a port of Go's `x/mod/sumdb/note`), and the cosignature/v1
//! vectors of transparency-dev/formats (`note/note_cosigv1_test.go`, copied in
//! testdata/cosigv1-vectors.txt).

use hallmark_tlog::note::{Checkpoint, parse_note, sign_checkpoint};
use hallmark_tlog::notekey::{SIG_COSIGNATURE_V1, SIG_ED25519, key_id};
use hallmark_tlog::{Ed25519NoteKey, LogKey, LogKeyType, NoteVerifier};
use hallmark_witness::cosig::signed_message;
use hallmark_witness::{CosignatureLine, Cosigner, CosignerKey};
use signed_note::{Note, Signature, StandardSigner, StandardVerifier, VerifierList};

use crate::TestLog;

fn azul_verifies(vkey: &str, note: &str) -> Result<usize, String> {
    let v = StandardVerifier::new(vkey).map_err(|e| e.to_string())?;
    let n = Note::from_bytes(note.as_bytes()).map_err(|e| e.to_string())?;
    let (ok, _) = n
        .verify(&VerifierList::new(vec![Box::new(v)]))
        .map_err(|e| e.to_string())?;
    Ok(ok.len())
}

/// An Ed25519 public key as azul's type-0x01 vkey.
fn azul_vkey(name: &str, public: &[u8; 32]) -> String {
    use base64::Engine as _;
    let mut raw = vec![SIG_ED25519];
    raw.extend_from_slice(public);
    let id = signed_note::key_id(name, &raw);
    format!(
        "{name}+{id:08x}+{}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[test]
fn our_checkpoints_verify_with_azul_and_theirs_with_ours() {
    let mut log = TestLog::new("log.example/a");
    log.grow(3, 0);
    let ours = log.checkpoint(3);
    assert_eq!(azul_verifies(&log.vkey(), &ours), Ok(1));
    assert!(azul_verifies(&log.vkey(), &ours.replacen("\n3\n", "\n4\n", 1)).is_err());
    // azul signs with our private key text, and with its own (Go's example key).
    let body = parse_note(&ours).unwrap().0;
    for skey in [
        log.key.skey().to_string(),
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz".to_owned(),
    ] {
        let signer = StandardSigner::new(&skey).unwrap();
        let mut n = Note::new(body.as_bytes(), &[]).unwrap();
        n.add_sigs(&[&signer]).unwrap();
        let theirs = String::from_utf8(n.to_bytes()).unwrap();
        let key = Ed25519NoteKey::from_skey(&skey).unwrap();
        let v = NoteVerifier::from_vkey(&key.vkey().to_string()).unwrap();
        assert_eq!(
            v.verify_checkpoint(&theirs, None).unwrap().checkpoint.size,
            3
        );
    }
}

/// A checkpoint as a log's sequencer signs it with an Ed25519 [`LogKey`] (PKCS#8 key, the
/// name given at signing): azul verifies it with the vkey we publish, computes the same
/// key ID, and refuses it after a change of size or key name.
#[test]
fn ed25519_log_key_checkpoints_verify_with_azul() {
    let key = LogKey::generate(LogKeyType::Ed25519).unwrap();
    let name = "log.example";
    let v = NoteVerifier::named(name, key.verifier().clone()).unwrap();
    let public = *key.verifier().ed25519_key().unwrap();
    assert_eq!(v.vkey().to_string(), azul_vkey(name, &public));
    let cp = Checkpoint {
        origin: name.into(),
        size: 5,
        root: [7; 32],
    };
    let note = sign_checkpoint(&cp, name, &key).unwrap().text;
    assert_eq!(azul_verifies(&v.to_string(), &note), Ok(1));
    assert!(azul_verifies(&v.to_string(), &note.replacen("\n5\n", "\n6\n", 1)).is_err());
    let renamed = note.replace("\u{2014} log.example ", "\u{2014} log.other ");
    assert!(azul_verifies(&v.to_string(), &renamed).is_err());
    // The key reloaded from its PEM signs identically (Ed25519 is deterministic).
    let again = LogKey::from_pem(key.private_pem().as_bytes()).unwrap();
    assert_eq!(sign_checkpoint(&cp, name, &again).unwrap().text, note);
}

#[test]
fn cosignatures_cross_check_with_azul() {
    let mut log = TestLog::new("log.example/a");
    log.grow(7, 0);
    let note = log.checkpoint(7);
    let body = parse_note(&note).unwrap().0;
    let witness = Cosigner::generate("witness.example/w1").unwrap();
    let key = witness.verifier();
    // Key ID: azul's generic rule over (type 0x04 ‖ key).
    let mut typed = vec![SIG_COSIGNATURE_V1];
    typed.extend_from_slice(&key.public_key());
    assert_eq!(
        signed_note::key_id(key.name(), &typed).to_be_bytes(),
        key.key_id()
    );
    // Ours, verified by azul's Ed25519 over the cosignature/v1 message.
    let line = witness.cosign(body, 1_727_964_367);
    let msg = String::from_utf8(signed_message(line.timestamp, body)).unwrap();
    assert!(msg.starts_with("cosignature/v1\ntime 1727964367\nlog.example/a\n7\n"));
    let vk = azul_vkey(key.name(), &key.public_key());
    let id = u32::from_str_radix(vk.split('+').nth(1).unwrap(), 16).unwrap();
    let sig = Signature::new(key.name().to_owned(), id, line.signature.to_vec()).unwrap();
    let n = Note::new(msg.as_bytes(), &[sig]).unwrap();
    let n = Note::from_bytes(&n.to_bytes()).unwrap();
    let vl = VerifierList::new(vec![Box::new(StandardVerifier::new(&vk).unwrap())]);
    assert_eq!(n.verify(&vl).unwrap().0.len(), 1);
    // The cosigned note still parses and verifies in azul, our line kept as unknown.
    let cosigned = format!("{note}{line}\n");
    let parsed = Note::from_bytes(cosigned.as_bytes()).unwrap();
    let (ok, unknown) = parsed
        .verify(&VerifierList::new(vec![Box::new(
            StandardVerifier::new(&log.vkey()).unwrap(),
        )]))
        .unwrap();
    assert_eq!((ok.len(), unknown.len()), (1, 1));
    assert_eq!(unknown[0].name(), key.name());
    assert_eq!(unknown[0].id().to_be_bytes(), key.key_id());
    // Theirs (azul's Ed25519 signer over the same message) verified by ours.
    let skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    let signer = StandardSigner::new(skey).unwrap();
    let mut n = Note::new(msg.as_bytes(), &[]).unwrap();
    n.add_sigs(&[&signer]).unwrap();
    let their_sig: [u8; 64] = n.to_bytes()[msg.len() + 1..]
        .split(|b| *b == b' ')
        .nth(2)
        .map(|b64| {
            use base64::Engine as _;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64.strip_suffix(b"\n").unwrap())
                .unwrap();
            raw[4..].try_into().unwrap()
        })
        .unwrap();
    let public = Ed25519NoteKey::from_skey(skey).unwrap().public_key();
    let their_key = CosignerKey::from_vkey(&format!(
        "PeterNeumann+{}+{}",
        hex_id("PeterNeumann", &public),
        b64_typed(&public)
    ))
    .unwrap();
    let their_line = CosignatureLine {
        name: "PeterNeumann".into(),
        key_id: their_key.key_id(),
        timestamp: 1_727_964_367,
        signature: their_sig,
    };
    their_key.verify(&their_line, body).unwrap();
    let late = CosignatureLine {
        timestamp: 1_727_964_368,
        ..their_line
    };
    assert!(their_key.verify(&late, body).is_err());
}

fn hex_id(name: &str, public: &[u8; 32]) -> String {
    key_id(name, SIG_COSIGNATURE_V1, public)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn b64_typed(public: &[u8; 32]) -> String {
    use base64::Engine as _;
    let mut raw = vec![SIG_COSIGNATURE_V1];
    raw.extend_from_slice(public);
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// transparency-dev/formats `note/note_cosigv1_test.go` (commit 0b850f1): a native
/// cosignature/v1 vkey, and a cosignature whose timestamp is 1727964367.
#[test]
fn transparency_dev_vectors() {
    let text = include_str!("../../testdata/cosigv1-vectors.txt");
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .unwrap()
            .trim()
            .to_owned()
    };
    let key = CosignerKey::from_vkey(&get("vkey:")).unwrap();
    assert_eq!(key.to_string(), get("vkey:"));
    assert!(CosignerKey::from_vkey(&get("vkey:").replace("da77ade7", "da77ade8")).is_err());
    let line = CosignatureLine::parse(&format!("\u{2014} x {}", get("cosignature:"))).unwrap();
    assert_eq!(line.timestamp.to_string(), get("timestamp:"));
    assert_eq!(hex_of(line.key_id), get("key-id:"));
    // Their "wrong type of signature" (a plain Ed25519 note signature) is not a cosignature.
    assert!(CosignatureLine::parse(&format!("\u{2014} x {}", get("not-cosignature:"))).is_err());
}

fn hex_of(b: [u8; 4]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}
