//! Proof properties (proptest) and cross-checks against `tlog_tiles` (Cloudflare azul's
//! port of Go's golang.org/x/mod/sumdb/tlog), an independent implementation.

use std::sync::Arc;

use hallmark_tlog::merkle::{
    Hash, LeafList, consistency_proof, inclusion_proof, leaf_hash, tree_root, verify_consistency,
    verify_inclusion,
};
use hallmark_tlog::tile::{TilePath, TileReader};
use hallmark_tlog::{LogKey, Options, TileFetch};
use proptest::prelude::*;
use tlog_tiles as tt;

fn leaves(n: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn inclusion_proofs_verify_and_wrong_ones_fail(n in 1u64..700, seed in any::<u64>()) {
        let l = leaves(n);
        let root = tree_root(&mut LeafList(&l), n).unwrap();
        let i = seed % n;
        let p = inclusion_proof(&mut LeafList(&l), i, n).unwrap();
        prop_assert!(verify_inclusion(&l[i as usize], i, n, &p, &root).is_ok());
        // Wrong leaf.
        prop_assert!(verify_inclusion(&leaf_hash(b"other"), i, n, &p, &root).is_err());
        // Wrong index.
        if n > 1 {
            let j = (i + 1 + seed / n % (n - 1)) % n;
            prop_assert!(verify_inclusion(&l[i as usize], j, n, &p, &root).is_err());
        }
        // Wrong size: the proof does not lead to the root of any other tree size. (The
        // size itself is bound by the signed checkpoint, not by the proof: against the
        // *same* root, some other sizes have the same path shape.)
        let l2 = leaves(n + 1);
        let root_plus = tree_root(&mut LeafList(&l2), n + 1).unwrap();
        prop_assert!(verify_inclusion(&l[i as usize], i, n + 1, &p, &root_plus).is_err());
        if n > i + 1 {
            let root_minus = tree_root(&mut LeafList(&l), n - 1).unwrap();
            prop_assert!(verify_inclusion(&l[i as usize], i, n - 1, &p, &root_minus).is_err());
        }
        // Truncated or extended proof.
        if !p.is_empty() {
            prop_assert!(verify_inclusion(&l[i as usize], i, n, &p[..p.len() - 1], &root).is_err());
        }
        let mut longer = p.clone();
        longer.push([0u8; 32]);
        prop_assert!(verify_inclusion(&l[i as usize], i, n, &longer, &root).is_err());
    }

    #[test]
    fn consistency_proofs_verify_and_wrong_ones_fail(n in 1u64..700, seed in any::<u64>()) {
        let l = leaves(n);
        let m = 1 + seed % n;
        let new_root = tree_root(&mut LeafList(&l), n).unwrap();
        let old_root = tree_root(&mut LeafList(&l), m).unwrap();
        let p = consistency_proof(&mut LeafList(&l), m, n).unwrap();
        prop_assert!(verify_consistency(m, n, &p, &old_root, &new_root).is_ok());
        if m < n {
            // Wrong old root, wrong sizes, a different new tree.
            prop_assert!(verify_consistency(m, n, &p, &leaf_hash(b"x"), &new_root).is_err());
            prop_assert!(verify_consistency(m, n, &p, &old_root, &leaf_hash(b"x")).is_err());
            let l2 = leaves(n + 1);
            let root_plus = tree_root(&mut LeafList(&l2), n + 1).unwrap();
            prop_assert!(verify_consistency(m, n + 1, &p, &old_root, &root_plus).is_err());
            if m > 1 {
                let r = tree_root(&mut LeafList(&l), m - 1).unwrap();
                prop_assert!(verify_consistency(m - 1, n, &p, &r, &new_root).is_err());
            }
            let mut forked = l.clone();
            forked[(seed as usize / 7) % m as usize] = leaf_hash(b"forged");
            let forked_old = tree_root(&mut LeafList(&forked), m).unwrap();
            prop_assert!(verify_consistency(m, n, &p, &forked_old, &new_root).is_err());
        }
    }
}

/// tlog_tiles keeps every stored hash in a flat array.
struct Stored(Vec<tt::Hash>);

impl tt::HashReader for Stored {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tt::Hash>, tt::Error> {
        Ok(indexes.iter().map(|&i| self.0[i as usize]).collect())
    }
}

#[test]
fn hashes_and_proofs_match_tlog_tiles() {
    let n_max = 600u64;
    let mut stored = Stored(Vec::new());
    let l = leaves(n_max);
    for i in 0..n_max {
        let data = format!("entry {i}");
        let new = tt::stored_hashes(i, data.as_bytes(), &stored).unwrap();
        stored.0.extend(new);
        assert_eq!(tt::record_hash(data.as_bytes()).0, l[i as usize]);
    }
    for n in (1..=n_max).step_by(7).chain([256, 257, 512, 513, 600]) {
        let ours = tree_root(&mut LeafList(&l), n).unwrap();
        assert_eq!(tt::tree_hash(n, &stored).unwrap().0, ours, "root of {n}");
        for i in [0, n / 3, n / 2, n - 1] {
            let theirs: Vec<Hash> = tt::prove_record(n, i, &stored)
                .unwrap()
                .into_iter()
                .map(|h| h.0)
                .collect();
            assert_eq!(
                inclusion_proof(&mut LeafList(&l), i, n).unwrap(),
                theirs,
                "record {i} in {n}"
            );
        }
        for m in [1, n / 2, n.saturating_sub(1)]
            .into_iter()
            .filter(|&m| m >= 1 && m < n)
        {
            let theirs: Vec<Hash> = tt::prove_tree(n, m, &stored)
                .unwrap()
                .into_iter()
                .map(|h| h.0)
                .collect();
            assert_eq!(
                consistency_proof(&mut LeafList(&l), m, n).unwrap(),
                theirs,
                "tree {m} in {n}"
            );
        }
    }
}

/// tlog_tiles reads our stored tiles (C2SP paths, height 8) and authenticates them
/// against our checkpoint root; its proofs equal ours computed from the same tiles.
struct OurTiles(Arc<dyn TileFetch>);

impl tt::TileReader for OurTiles {
    fn height(&self) -> u8 {
        8
    }
    fn read_tiles(&self, tiles: &[tt::Tile]) -> Result<Vec<Vec<u8>>, tt::Error> {
        Ok(tiles
            .iter()
            .map(|t| {
                let key = TilePath::hash(t.level(), t.level_index(), t.width() as u16).key();
                // tlog_tiles' own path format is the Go sumdb one, with the height.
                assert_eq!(t.path().replacen("tile/8/", "tile/", 1), key);
                self.0
                    .fetch(&key)
                    .unwrap()
                    .unwrap_or_else(|| panic!("missing {key}"))
            })
            .collect())
    }
    fn save_tiles(&self, _tiles: &[tt::Tile], _data: &[Vec<u8>]) {}
}

#[test]
fn stored_tiles_authenticate_with_tlog_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let (seq, store) = crate::dir_log(dir.path(), &key, Options::default());
    let n = 66_000u64; // partial tiles on levels 0, 1 and 2; full level-1 tile
    crate::fill(&seq, "e", n as usize);
    let cp = seq.latest();
    assert_eq!(cp.checkpoint.size, n);
    let fetch: Arc<dyn TileFetch> = store;
    let tr = OurTiles(Arc::clone(&fetch));
    let thr = tt::TileHashReader::new(n, tt::Hash(cp.checkpoint.root), &tr);
    let mut ours = TileReader::new(fetch, n);
    assert_eq!(tree_root(&mut ours, n).unwrap(), cp.checkpoint.root);
    let mut rng = crate::Rng(99);
    for _ in 0..40 {
        let i = rng.below(n);
        let theirs = tt::prove_record(n, i, &thr).unwrap();
        tt::check_record(
            &theirs,
            n,
            tt::Hash(cp.checkpoint.root),
            i,
            tt::record_hash(format!("e-{i}").as_bytes()),
        )
        .unwrap();
        let theirs: Vec<Hash> = theirs.into_iter().map(|h| h.0).collect();
        assert_eq!(
            inclusion_proof(&mut ours, i, n).unwrap(),
            theirs,
            "index {i}"
        );
        let m = 1 + rng.below(n - 1);
        let theirs: Vec<Hash> = tt::prove_tree(n, m, &thr)
            .unwrap()
            .into_iter()
            .map(|h| h.0)
            .collect();
        assert_eq!(
            consistency_proof(&mut ours, m, n).unwrap(),
            theirs,
            "size {m}"
        );
    }
}
