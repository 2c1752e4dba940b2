//! hallmark-crypto (placeholder).
