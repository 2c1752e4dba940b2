//! `hallmark digest` against the reference library: `testdata/digest/expected.tsv` holds
//! the root digest model-signing 1.1.1 computes for every model of the OMS and golden
//! fixtures (made once with `testdata/digest/make-expected.py`), with the flags used.

use crate::Cmd;

#[test]
fn digest_equals_the_reference_on_every_fixture() {
    let table = hallmark_testkit::read_to_string(
        hallmark_testkit::repo().join("testdata/digest/expected.tsv"),
    );
    let mut cases = 0;
    for line in table.lines().filter(|l| !l.is_empty()) {
        let mut cols = line.split('\t');
        let (want, model) = (cols.next().unwrap(), cols.next().unwrap());
        let args: Vec<&str> = cols.next().unwrap_or("").split_whitespace().collect();
        let out = Cmd::new(["digest", model]).args(&args).run();
        out.expect(0, &[]);
        assert_eq!(out.stdout, format!("{want}\n"), "{model} {args:?}");
        cases += 1;
    }
    assert!(cases >= 30, "only {cases} cases in expected.tsv");
}

#[test]
fn digest_is_the_subject_digest_sign_writes_and_has_json() {
    let tmp = hallmark_testkit::temp_tree(&[("model/a.txt", "a"), ("model/sub/b.bin", "b")]);
    let d = tmp.path();
    let sign = Cmd::sign_key("model", hallmark_testkit::test_key("test.key"))
        .arg("-q")
        .cwd(d)
        .run();
    sign.expect(0, &["Signing succeeded"]);
    let digest = Cmd::new(["digest", "model"]).cwd(d).run();
    digest.expect(0, &[]);
    let line = digest.stdout.trim();
    assert!(sign.stdout.contains(line), "{line} not in {}", sign.stdout);
    // model.sig lies outside the model here; inside it, digest (unlike sign) counts it.
    let j = Cmd::new(["digest", "model", "--json"]).cwd(d).run();
    j.expect(0, &[]);
    let v = j.json();
    assert_eq!(v["model_digest"], line);
    assert_eq!(v["resource_count"], 2);
    assert_eq!(v["serialization"], "files");
    assert_eq!(v["hash"], "sha256");
    Cmd::new(["digest", "missing-model"])
        .cwd(d)
        .run()
        .expect(2, &["Computing digest failed", "missing-model"]);
}
