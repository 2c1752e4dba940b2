//! Key and certificate parsing: `PublicKey::from_pem` / `from_spki_der`,
//! `SigningKey::from_pem` (no password), `load_certificates_pem`, `Certificate::from_der`,
//! every accessor of a parsed certificate, and chain validation of a certificate against
//! itself. Property: a parsed public key re-encodes (`to_pem`) to the same key.

#![no_main]

use hallmark_crypto::{
    Certificate, ChainPolicy, PublicKey, SigningKey, load_certificates_pem,
    verify_certificate_chain,
};
use libfuzzer_sys::fuzz_target;

fn exercise(cert: &Certificate) {
    let _ = (cert.subject(), cert.issuer(), cert.serial_hex(), cert.fingerprint());
    let _ = (cert.not_before(), cert.not_after(), cert.san_values());
    let _ = (cert.has_usage_extensions(), cert.is_ca());
    if let Ok(key) = cert.public_key() {
        let _ = key.hint();
    }
    let _ = verify_certificate_chain(
        cert,
        &[],
        std::slice::from_ref(cert),
        &ChainPolicy::default(),
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = PublicKey::from_pem(data) {
        let again = PublicKey::from_pem(key.to_pem().as_bytes()).expect("to_pem parses");
        assert_eq!(again.spki_der(), key.spki_der());
        let _ = key.verify(b"message", data);
    }
    let _ = PublicKey::from_spki_der(data);
    let _ = SigningKey::from_pem(data, None);
    if let Ok(certs) = load_certificates_pem(data) {
        for c in &certs {
            exercise(c);
        }
    }
    if let Ok(cert) = Certificate::from_der(data) {
        exercise(&cert);
    }
});
