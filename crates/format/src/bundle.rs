//! Sigstore bundle v0.3 JSON.
