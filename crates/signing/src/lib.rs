//! hallmark-signing (placeholder).
