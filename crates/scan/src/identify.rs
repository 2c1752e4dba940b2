//! Format identification from content (magic bytes and structure), never from names.

use crate::io::le_u64;

/// A format recognised from the first bytes of a file or member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Empty,
    Zip,
    Tar,
    /// A compressed stream (the whole content).
    Stream(Codec),
    /// A 7z archive.
    SevenZ,
    /// A compressed format that is identified but not opened.
    Compressed(&'static str),
    Pickle,
    Npy,
    Safetensors,
    Gguf,
    Hdf5,
    Text,
    Binary,
}

/// A compressed stream format (everything joblib's `compress=` writes, and `.tar.gz`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    /// gzip, possibly multi-member.
    Gzip,
    /// zlib (joblib's default compressor).
    Zlib,
    /// bzip2, possibly multi-stream.
    Bzip2,
    /// xz container.
    Xz,
    /// `.lzma` ("alone") stream.
    Lzma,
    /// lz4 frame.
    Lz4,
}

impl Codec {
    /// The format name reported for the stream.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zlib => "zlib",
            Self::Bzip2 => "bzip2",
            Self::Xz => "xz",
            Self::Lzma => "lzma",
            Self::Lz4 => "lz4",
        }
    }
}

/// Identifies content from its prefix (up to 4 KiB) and total length.
pub(crate) fn identify(p: &[u8], len: u64) -> Kind {
    if len == 0 {
        return Kind::Empty;
    }
    if p.starts_with(b"PK\x03\x04") || p.starts_with(b"PK\x05\x06") || p.starts_with(b"PK\x07\x08")
    {
        return Kind::Zip;
    }
    if p.starts_with(b"\x93NUMPY") {
        return Kind::Npy;
    }
    if p.starts_with(b"GGUF") {
        return Kind::Gguf;
    }
    if p.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Kind::Hdf5;
    }
    if p.starts_with(&[0x1f, 0x8b]) {
        return Kind::Stream(Codec::Gzip);
    }
    if p.starts_with(b"7z\xbc\xaf\x27\x1c") {
        return Kind::SevenZ;
    }
    if p.starts_with(b"BZh") && p.get(3).is_some_and(|c| (b'1'..=b'9').contains(c)) {
        return Kind::Stream(Codec::Bzip2);
    }
    if p.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Kind::Stream(Codec::Xz);
    }
    if is_lzma_alone(p) {
        return Kind::Stream(Codec::Lzma);
    }
    if p.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Kind::Compressed("zstd");
    }
    if p.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
        return Kind::Stream(Codec::Lz4);
    }
    if p.starts_with(b"Rar!") {
        return Kind::Compressed("rar");
    }
    if is_safetensors(p, len) {
        return Kind::Safetensors;
    }
    if is_tar(p) {
        return Kind::Tar;
    }
    if is_zlib(p) && !is_text(p) {
        return Kind::Stream(Codec::Zlib);
    }
    if crate::pickle::sniff(p) {
        return Kind::Pickle;
    }
    if is_text(p) {
        return Kind::Text;
    }
    Kind::Binary
}

fn is_safetensors(p: &[u8], len: u64) -> bool {
    le_u64(p, 0).is_some_and(|n| n >= 2 && n.checked_add(8).is_some_and(|e| e <= len))
        && p.get(8) == Some(&b'{')
}

/// An `.lzma` ("alone") header as Python's `lzma` and joblib write it: properties byte
/// 0x5d (lc 3, lp 0, pb 2; joblib sniffs `5d 00`), a dictionary size of 2^n or 2^n + 2^(n-1)
/// bytes (at least 4 KiB), and an unknown (all ones) or plausible uncompressed size.
fn is_lzma_alone(p: &[u8]) -> bool {
    let dict = crate::io::le_u32(p, 1).unwrap_or(0);
    let size = le_u64(p, 5).unwrap_or(0);
    let shape = dict.checked_shr(dict.trailing_zeros()).unwrap_or(0);
    p.first() == Some(&0x5d)
        && p.get(1) == Some(&0)
        && dict >= 4096
        && (shape == 1 || shape == 3)
        && (size == u64::MAX || size < 1 << 48)
}

fn is_tar(p: &[u8]) -> bool {
    if p.get(257..262) == Some(b"ustar") {
        return true;
    }
    // Old (v7) tar: no magic, but a valid header checksum.
    let Some(h) = p.get(..512) else { return false };
    let stored = h.get(148..156).and_then(crate::formats::tar::octal);
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    stored == Some(sum)
        && h.first().is_some_and(|&c| c != 0)
        && h.get(156).is_some_and(|t| matches!(t, 0 | b'0'..=b'7'))
}

fn is_zlib(p: &[u8]) -> bool {
    let (Some(&cmf), Some(&flg)) = (p.first(), p.get(1)) else {
        return false;
    };
    if cmf != 0x78 || (u16::from(cmf) * 256 + u16::from(flg)) % 31 != 0 {
        return false;
    }
    // Confirm by inflating a little (text such as "x^" also passes the header check).
    let mut d = flate2::Decompress::new(true);
    let mut out = [0u8; 64];
    d.decompress(p, &mut out, flate2::FlushDecompress::None)
        .is_ok()
        && d.total_out() > 0
}

fn is_text(p: &[u8]) -> bool {
    if p.iter()
        .any(|&c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
    {
        return false;
    }
    match std::str::from_utf8(p) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 >= p.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(identify(b"PK\x03\x04....", 100), Kind::Zip);
        assert_eq!(identify(b"\x80\x02cos\nsystem\n", 100), Kind::Pickle);
        assert_eq!(identify(b"cos\nsystem\n(S'ls'\ntR.", 21), Kind::Pickle);
        assert_eq!(identify(b"I am a readme\n", 14), Kind::Text);
        assert_eq!(identify(b"x^2 + y^2\n", 10), Kind::Text);
        // joblib's lzma header (preset 3: 4 MiB dictionary, unknown size).
        let lzma = b"\x5d\0\0\x40\0\xff\xff\xff\xff\xff\xff\xff\xff\0\x40";
        assert_eq!(identify(lzma, 100), Kind::Stream(Codec::Lzma));
        assert_ne!(
            identify(b"\x5d\0\0\0\0\0\0\0\0\0\0\0\0", 13),
            Kind::Stream(Codec::Lzma)
        );
        assert_ne!(
            identify(b"\x5d\0\0\x05\0\0\0\0\0\0\0\0\0", 13),
            Kind::Stream(Codec::Lzma)
        );
        assert_eq!(
            identify(b"\x10\0\0\0\0\0\0\0{\"a\":1}       ", 24),
            Kind::Safetensors
        );
    }
}
