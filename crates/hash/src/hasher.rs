//! The three OMS content hashes behind one small trait, so the engine's inner
//! loop is monomorphised per algorithm (no dynamic dispatch per chunk).

use aws_lc_rs::digest;
use blake2::Digest as _;

/// A streaming content hash (SHA-256, BLAKE2b-512 or BLAKE3).
pub(crate) trait ContentHasher {
    /// A fresh state.
    fn start() -> Self;
    /// Absorbs bytes.
    fn update(&mut self, data: &[u8]);
    /// The digest.
    fn finish(self) -> Vec<u8>;
}

/// SHA-256 from aws-lc-rs (SHA-NI / ARMv8 SHA when the CPU has them).
pub(crate) struct Sha256(digest::Context);

impl ContentHasher for Sha256 {
    fn start() -> Self {
        Self(digest::Context::new(&digest::SHA256))
    }
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finish(self) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}

/// BLAKE2b-512 with default parameters (no key, salt or personalisation),
/// as Python's `hashlib.blake2b()`.
pub(crate) struct Blake2b(blake2::Blake2b512);

impl ContentHasher for Blake2b {
    fn start() -> Self {
        Self(blake2::Blake2b512::new())
    }
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finish(self) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

/// BLAKE3, unkeyed, 32-byte output (the Python `blake3` package's default).
pub(crate) struct Blake3(blake3::Hasher);

impl ContentHasher for Blake3 {
    fn start() -> Self {
        Self(blake3::Hasher::new())
    }
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finish(self) -> Vec<u8> {
        self.0.finalize().as_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_of<H: ContentHasher>(chunks: &[&[u8]]) -> String {
        let mut h = H::start();
        for c in chunks {
            h.update(c);
        }
        hex::encode(h.finish())
    }

    #[test]
    fn empty_input_digests() {
        assert_eq!(
            hex_of::<Sha256>(&[]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex_of::<Blake2b>(&[]),
            "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419\
             d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"
        );
        assert_eq!(
            hex_of::<Blake3>(&[]),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    #[test]
    fn chunking_does_not_matter() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let (a, b) = data.split_at(33_333);
        assert_eq!(hex_of::<Sha256>(&[&data]), hex_of::<Sha256>(&[a, b]));
        assert_eq!(hex_of::<Blake2b>(&[&data]), hex_of::<Blake2b>(&[a, b]));
        assert_eq!(hex_of::<Blake3>(&[&data]), hex_of::<Blake3>(&[a, b]));
    }
}
