use super::*;

fn r<'a>(path: &'a str, range: Option<(u64, u64)>, alg: &'a str, d: &'a [u8]) -> Resource<'a> {
    Resource {
        path,
        range,
        algorithm: alg,
        digest: d,
    }
}

#[test]
fn mixed_lists_round_trip_through_the_owned_form() {
    let first_shard = r("s", Some((0, 1)), "sha256-sharded-1", &[9; 32]).to_digest();
    let one = Resources::try_from(vec![first_shard.clone()]).unwrap();
    assert_eq!(one.to_vec(), [first_shard]);
    let want = vec![
        r("a", None, "sha256", &[1; 32]).to_digest(),
        r("b/c", Some((0, 8)), "sha256-sharded-8", &[2; 32]).to_digest(),
        r("b/c", Some((8, 9)), "sha256-sharded-8", &[3; 32]).to_digest(),
        r("", None, "blake2b", &[4; 64]).to_digest(),
        r("é", None, "sha256", &[5; 3]).to_digest(),
    ];
    let list = Resources::try_from(want.clone()).unwrap();
    assert_eq!(list.len(), 5);
    assert_eq!(list.to_vec(), want);
    for (i, w) in want.iter().enumerate() {
        assert_eq!(list.get(i).unwrap().to_digest(), *w);
    }
    assert!(list.get(5).is_none());
    assert_eq!(list.get(2).unwrap().to_string(), "b/c:8:9");
    assert_eq!(list.digest_bytes().len(), 32 * 3 + 64 + 3);
}

#[test]
fn a_files_manifest_costs_its_names_digests_and_a_byte_and_a_quarter_a_resource() {
    // The per-file memory bound of issue 21, independent of machine speed: the
    // names and digests themselves, one byte of length each and a u32 start every
    // 16 names, nothing per resource else.
    let mut names = Names::new();
    for i in 0..10_000 {
        names.push(&format!("d{:04}/f{i:06}.bin", i / 100)).unwrap();
    }
    names.shrink_to_fit();
    let name_bytes: usize = names.iter().map(str::len).sum();
    let list = Resources::of_files(Arc::new(names), "sha256", 32, vec![7; 32 * 10_000]).unwrap();
    let held = list.names.heap_bytes()
        + list.digests.capacity()
        + list.ranges.capacity() * size_of::<Option<(u64, u64)>>()
        + list.runs.capacity() * size_of::<Run>();
    assert_eq!(
        held,
        name_bytes + 10_000 * (1 + 32) + 10_000 / 16 * 4 + size_of::<Run>()
    );
    assert!(held < 10_000 * (17 + 32 + 2), "{held}");
    assert_eq!(list.get(9_999).unwrap().path, "d0099/f009999.bin");
    assert_eq!(list.iter().count(), 10_000);
    assert!(Resources::of_files(list.names.clone(), "sha256", 32, vec![0; 31]).is_none());
}

#[test]
fn names_of_any_length_are_found_by_index_and_in_order() {
    let long = "x".repeat(300);
    let want: Vec<String> = (0..100)
        .map(|i| match i % 7 {
            0 => format!("{long}{i}"),
            1 => String::new(),
            2 => "y".repeat(255),
            3 => "z".repeat(254),
            _ => format!("d/{i}é"),
        })
        .collect();
    let mut names = Names::new();
    for n in &want {
        names.push(n).unwrap();
    }
    assert_eq!(names.len(), want.len());
    assert_eq!(names.iter().collect::<Vec<_>>(), want);
    for (i, n) in want.iter().enumerate() {
        assert_eq!(names.get(i), Some(n.as_str()), "{i}");
    }
    assert_eq!(names.get(want.len()), None);
    let order = names.order_by(compare_paths);
    let sorted = names.permuted(&order).unwrap();
    let mut expect = want.clone();
    expect.sort_by(|a, b| compare_paths(a, b));
    assert_eq!(sorted.iter().collect::<Vec<_>>(), expect);
    assert!(sorted.is_reference_sorted());
}

#[test]
fn sorting_and_order_checks_use_the_reference_order() {
    let mut list = Resources::new();
    for p in ["b.bin", "a/z", "a.b", "a"] {
        list.push(r(p, None, "sha256", &[0; 32])).unwrap();
    }
    let sorted = list.sorted_by(|a, b| a.reference_cmp(b)).unwrap();
    let names: Vec<&str> = sorted.iter().map(|r| r.path).collect();
    assert_eq!(names, ["a", "a/z", "a.b", "b.bin"]);
    assert!(sorted.names.is_reference_sorted());
    assert!(!list.names.is_reference_sorted());
}
