//! Adversarial bundles (testdata/sigstore).
