//! hallmark-hash (placeholder).
