//! Resource identifiers (`ResourceName::parse_file` / `parse_shard`, `normalize_path`).
//! Properties: whatever is accepted is a safe model-relative path (no `..`, not absolute,
//! no NUL or backslash), normalisation is idempotent, names round-trip through Display,
//! and the reference order is antisymmetric.

#![no_main]

use std::cmp::Ordering;

use hallmark_format::ResourceName;
use hallmark_format::resource::normalize_path;
use libfuzzer_sys::fuzz_target;

fn assert_safe(p: &str) {
    assert!(!p.is_empty(), "empty path accepted");
    assert!(!p.starts_with('/'), "absolute path accepted: {p:?}");
    assert!(!p.contains('\0') && !p.contains('\\'), "{p:?}");
    assert!(p == "." || !p.split('/').any(|c| c.is_empty() || c == "." || c == ".."), "{p:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = text.split_once('\n').unwrap_or((text, ""));
    for s in [a, b] {
        if let Ok(p) = normalize_path(s) {
            assert_safe(&p);
            assert_eq!(normalize_path(&p).expect("normal form is accepted"), p);
        }
        if let Ok(n) = ResourceName::parse_file(s) {
            assert_safe(n.path());
            assert_eq!(ResourceName::parse_file(&n.to_string()).expect("round trip"), n);
        }
        if let Ok(n) = ResourceName::parse_shard(s) {
            assert_safe(n.path());
            let ResourceName::Shard { start, end, .. } = &n else {
                panic!("parse_shard gave a file name");
            };
            assert!(start < end);
            assert_eq!(ResourceName::parse_shard(&n.to_string()).expect("round trip"), n);
        }
    }
    let parse = |s: &str| ResourceName::parse_shard(s).or_else(|_| ResourceName::parse_file(s));
    if let (Ok(x), Ok(y)) = (parse(a), parse(b)) {
        assert_eq!(x.reference_cmp(&y), y.reference_cmp(&x).reverse());
        assert_eq!(x.reference_cmp(&x), Ordering::Equal);
    }
});
