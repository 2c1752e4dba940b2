//! RFC 6962 §2.1 / RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs.
//!
//! Proof *generation* is generic over a source of complete-subtree hashes
//! ([`SubtreeHashes`]): every hash an RFC 6962 proof needs is either the root of a complete,
//! aligned subtree of `2^level` leaves, or (for the ragged right edge) a fold of such roots.
//! The tile reader ([`crate::tile::TileReader`]) answers those from C2SP tiles; tests answer
//! them from a plain leaf list. Proof *verification* follows RFC 9162 §2.1.3.2 and §2.1.4.2
//! literally and needs nothing but the proof.

use aws_lc_rs::digest;

use crate::error::Error;

/// A SHA-256 hash: a leaf hash, an interior node or a tree root.
pub type Hash = [u8; 32];

/// `SHA-256("")`, the root of the empty tree (RFC 6962 §2.1).
#[must_use]
pub fn empty_root() -> Hash {
    sha256(&[])
}

/// SHA-256 of `data`.
#[must_use]
pub fn sha256(data: &[u8]) -> Hash {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Leaf hash `SHA-256(0x00 ‖ data)`.
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[0]);
    ctx.update(data);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Interior node hash `SHA-256(0x01 ‖ left ‖ right)`.
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    sha256(&buf)
}

/// Source of roots of complete subtrees: `subtree(level, index)` is the hash of leaves
/// `[index·2^level, (index+1)·2^level)`, which must all exist in the tree being read.
pub trait SubtreeHashes {
    /// The root of the complete subtree `index` at `level` (level 0 = leaf hashes).
    ///
    /// # Errors
    /// Storage errors, or [`Error::Corrupt`] when the hash is not available.
    fn subtree(&mut self, level: u8, index: u64) -> Result<Hash, Error>;
}

/// Largest power of two strictly smaller than `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[lo:hi])` for a range produced by the RFC 6962 recursion (lo aligned to the
/// largest power of two not above `hi - lo`), from complete-subtree roots.
///
/// # Errors
/// From the hash source; [`Error::InvalidRange`] for an empty range.
pub fn range_hash(src: &mut dyn SubtreeHashes, lo: u64, hi: u64) -> Result<Hash, Error> {
    if hi <= lo {
        return Err(Error::InvalidRange { lo, hi });
    }
    let k = hi - lo;
    if k.is_power_of_two() && lo.is_multiple_of(k) {
        // A power of two never exceeds 2^63, so the level fits in a u8.
        return src.subtree(k.trailing_zeros() as u8, lo / k);
    }
    let p = split_point(k);
    let left = range_hash(src, lo, lo + p)?;
    let right = range_hash(src, lo + p, hi)?;
    Ok(node_hash(&left, &right))
}

/// The root hash of the tree of size `n` (the empty root for 0).
///
/// # Errors
/// From the hash source.
pub fn tree_root(src: &mut dyn SubtreeHashes, n: u64) -> Result<Hash, Error> {
    if n == 0 {
        return Ok(empty_root());
    }
    range_hash(src, 0, n)
}

/// RFC 6962 §2.1.1 audit path for leaf `index` in the tree of size `size`, leaf→root.
///
/// # Errors
/// [`Error::IndexOutOfRange`] if `index >= size`; hash source errors.
pub fn inclusion_proof(
    src: &mut dyn SubtreeHashes,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, Error> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let mut out = Vec::with_capacity(64);
    path(src, index, 0, size, &mut out)?;
    Ok(out)
}

fn path(
    src: &mut dyn SubtreeHashes,
    m: u64,
    lo: u64,
    hi: u64,
    out: &mut Vec<Hash>,
) -> Result<(), Error> {
    if hi - lo <= 1 {
        return Ok(());
    }
    let p = split_point(hi - lo);
    if m < lo + p {
        path(src, m, lo, lo + p, out)?;
        out.push(range_hash(src, lo + p, hi)?);
    } else {
        path(src, m, lo + p, hi, out)?;
        out.push(range_hash(src, lo, lo + p)?);
    }
    Ok(())
}

/// RFC 6962 §2.1.2 consistency proof between tree sizes `old` and `new` (empty when
/// `old == new` or `old == 0`).
///
/// # Errors
/// [`Error::InvalidRange`] if `old > new`; hash source errors.
pub fn consistency_proof(
    src: &mut dyn SubtreeHashes,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, Error> {
    if old > new {
        return Err(Error::InvalidRange { lo: old, hi: new });
    }
    let mut out = Vec::with_capacity(64);
    if old == 0 || old == new {
        return Ok(out);
    }
    subproof(src, old, 0, new, true, &mut out)?;
    Ok(out)
}

fn subproof(
    src: &mut dyn SubtreeHashes,
    m: u64,
    lo: u64,
    hi: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), Error> {
    let n = hi - lo;
    if m == n {
        if !complete {
            out.push(range_hash(src, lo, hi)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(src, m, lo, lo + k, complete, out)?;
        out.push(range_hash(src, lo + k, hi)?);
    } else {
        subproof(src, m - k, lo + k, hi, false, out)?;
        out.push(range_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.3.2: the root implied by `leaf` at `index` in a tree of `size` and `proof`.
///
/// # Errors
/// [`Error::ProofMismatch`] when the proof has the wrong length for (index, size).
pub fn root_from_inclusion_proof(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, Error> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let mut f_n = index;
    let mut s_n = size - 1;
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return Err(Error::ProofMismatch("inclusion proof is too long"));
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(Error::ProofMismatch("inclusion proof is too short"));
    }
    Ok(r)
}

/// Verifies an inclusion proof against `root`.
///
/// # Errors
/// [`Error::ProofMismatch`] when it does not verify.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), Error> {
    let computed = root_from_inclusion_proof(leaf, index, size, proof)?;
    if &computed == root {
        Ok(())
    } else {
        Err(Error::ProofMismatch(
            "inclusion proof leads to another root",
        ))
    }
}

/// RFC 9162 §2.1.4.2: verifies that the tree (`old`, `old_root`) is a prefix of
/// (`new`, `new_root`).
///
/// # Errors
/// [`Error::ProofMismatch`] when it does not verify.
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), Error> {
    if old > new {
        return Err(Error::ProofMismatch("old tree is larger than the new tree"));
    }
    if old == new {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(Error::ProofMismatch(
                "same size but different roots or a non-empty proof",
            ))
        };
    }
    if old == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(Error::ProofMismatch(
                "a proof from the empty tree must be empty",
            ))
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(Error::ProofMismatch("empty consistency proof"));
    };
    let mut f_n = old - 1;
    let mut s_n = new - 1;
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let mut fr = *first;
    let mut sr = *first;
    for c in rest {
        if s_n == 0 {
            return Err(Error::ProofMismatch("consistency proof is too long"));
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(Error::ProofMismatch("consistency proof is too short"));
    }
    if &fr != old_root {
        return Err(Error::ProofMismatch(
            "consistency proof does not lead to the old root",
        ));
    }
    if &sr != new_root {
        return Err(Error::ProofMismatch(
            "consistency proof does not lead to the new root",
        ));
    }
    Ok(())
}

/// The right edge of a tree: roots of its maximal complete subtrees, largest first
/// (one per set bit of the size). Appending is amortised O(1); the root is a fold.
#[derive(Clone, Debug, Default)]
pub struct Frontier {
    size: u64,
    /// (level, hash), levels strictly decreasing.
    nodes: Vec<(u8, Hash)>,
}

impl Frontier {
    /// Rebuilds the frontier of a tree of `size` from a subtree-hash source.
    ///
    /// # Errors
    /// From the hash source.
    pub fn from_source(src: &mut dyn SubtreeHashes, size: u64) -> Result<Self, Error> {
        let mut nodes = Vec::new();
        let mut lo = 0u64;
        for level in (0..64u8).rev() {
            let bit = 1u64 << level;
            if size & bit != 0 {
                nodes.push((level, src.subtree(level, lo >> level)?));
                lo += bit;
            }
        }
        Ok(Self { size, nodes })
    }

    /// Number of leaves.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; returns the complete subtrees that were finished by it as
    /// `(level, index, hash)` (level 0 is the leaf itself).
    pub fn push(&mut self, leaf: Hash, finished: &mut Vec<(u8, u64, Hash)>) {
        let index = self.size;
        finished.push((0, index, leaf));
        let mut cur = (0u8, leaf);
        while let Some(&(lvl, h)) = self.nodes.last() {
            if lvl != cur.0 {
                break;
            }
            self.nodes.pop();
            let merged = node_hash(&h, &cur.1);
            let level = lvl + 1;
            finished.push((level, index >> level, merged));
            cur = (level, merged);
        }
        self.nodes.push(cur);
        self.size += 1;
    }

    /// The tree root.
    #[must_use]
    pub fn root(&self) -> Hash {
        let mut iter = self.nodes.iter().rev();
        let Some(&(_, first)) = iter.next() else {
            return empty_root();
        };
        iter.fold(first, |acc, (_, h)| node_hash(h, &acc))
    }
}

/// A [`SubtreeHashes`] over an in-memory list of leaf hashes (tests, small trees).
#[derive(Debug)]
pub struct LeafList<'a>(pub &'a [Hash]);

impl SubtreeHashes for LeafList<'_> {
    fn subtree(&mut self, level: u8, index: u64) -> Result<Hash, Error> {
        fn mth(l: &[Hash]) -> Hash {
            match l.len() {
                0 => empty_root(),
                1 => l[0],
                n => {
                    let k = usize::try_from(split_point(n as u64)).unwrap_or(n / 2);
                    node_hash(&mth(&l[..k]), &mth(&l[k..]))
                }
            }
        }
        let width = 1u64 << level;
        let lo = usize::try_from(index * width).map_err(|_| Error::Corrupt("index".into()))?;
        let hi =
            usize::try_from((index + 1) * width).map_err(|_| Error::Corrupt("index".into()))?;
        self.0
            .get(lo..hi)
            .map(mth)
            .ok_or_else(|| Error::Corrupt(format!("subtree {level}/{index} beyond the leaves")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontier_matches_recursive_root() {
        let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut f = Frontier::default();
        let mut fin = Vec::new();
        for (i, l) in leaves.iter().enumerate() {
            f.push(*l, &mut fin);
            let n = i as u64 + 1;
            assert_eq!(f.root(), tree_root(&mut LeafList(&leaves), n).unwrap());
            let g = Frontier::from_source(&mut LeafList(&leaves), n).unwrap();
            assert_eq!(g.root(), f.root());
        }
    }

    #[test]
    fn rfc6962_empty_and_single() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // RFC 6962 test vector: leaf hash of the empty string.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }
}
