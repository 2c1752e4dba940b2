//! The hashes used with ECDSA, and SHA-256 of a buffer (aws-lc-rs).

/// A hash used with ECDSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlg {
    /// The name, e.g. `"SHA-256"`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            DigestAlg::Sha256 => "SHA-256",
            DigestAlg::Sha384 => "SHA-384",
            DigestAlg::Sha512 => "SHA-512",
        }
    }

    /// The digest of `data` (aws-lc-rs), for [`crate::PublicKey::verify_prehashed`]: one
    /// message checked against several keys is hashed once.
    #[must_use]
    pub fn digest(&self, data: &[u8]) -> Vec<u8> {
        aws_lc_rs::digest::digest(self.aws(), data)
            .as_ref()
            .to_vec()
    }

    /// A hasher for a message written in pieces (it is an [`std::io::Write`]): a
    /// message too large to hold in memory is signed over this digest
    /// ([`crate::SigningKey::sign_digest`]).
    #[must_use]
    pub fn hasher(&self) -> MessageHasher {
        MessageHasher {
            alg: *self,
            ctx: aws_lc_rs::digest::Context::new(self.aws()),
        }
    }

    pub(crate) fn aws(&self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            DigestAlg::Sha256 => &aws_lc_rs::digest::SHA256,
            DigestAlg::Sha384 => &aws_lc_rs::digest::SHA384,
            DigestAlg::Sha512 => &aws_lc_rs::digest::SHA512,
        }
    }
}

/// A [`DigestAlg`] digest being computed over a message written to it in pieces.
pub struct MessageHasher {
    alg: DigestAlg,
    ctx: aws_lc_rs::digest::Context,
}

impl std::fmt::Debug for MessageHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageHasher")
            .field("alg", &self.alg.name())
            .finish_non_exhaustive()
    }
}

impl MessageHasher {
    /// The algorithm.
    #[must_use]
    pub fn alg(&self) -> DigestAlg {
        self.alg
    }

    /// Adds `data` to the message.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// The digest of everything written.
    #[must_use]
    pub fn finish(self) -> Vec<u8> {
        self.ctx.finish().as_ref().to_vec()
    }
}

impl std::io::Write for MessageHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.ctx.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-256 of `data` (aws-lc-rs).
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Constant-time equality of two secrets (tokens, digests of tokens); only the lengths
/// may leak.
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(DigestAlg::Sha256.digest(b"abc"), sha256(b"abc"));
        assert_eq!(DigestAlg::Sha384.digest(b"abc").len(), 48);
        for alg in [DigestAlg::Sha256, DigestAlg::Sha384, DigestAlg::Sha512] {
            let mut h = alg.hasher();
            h.update(b"a");
            std::io::Write::write_all(&mut h, b"bc").unwrap();
            assert_eq!(h.finish(), alg.digest(b"abc"), "{}", alg.name());
        }
    }

    #[test]
    fn ct_eq_compares_bytes_and_lengths() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
