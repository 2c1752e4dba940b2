//! Writes the generated test corpus to a directory (for `benches/scan-compare.sh`):
//! `DIR/malicious/*`, `DIR/benign/*` and `DIR/manifest.tsv` (name, expectation, class).

#[path = "../tests/it/corpus.rs"]
mod corpus;

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "scan-corpus".into()),
    );
    let mut manifest = String::new();
    for s in corpus::all() {
        let sub = match s.expect {
            corpus::Expect::Malicious => "malicious",
            corpus::Expect::Benign => "benign",
        };
        std::fs::create_dir_all(dir.join(sub))?;
        std::fs::write(dir.join(sub).join(s.name), &s.bytes)?;
        manifest.push_str(&format!("{sub}/{}\t{sub}\t{}\n", s.name, s.class));
    }
    std::fs::write(dir.join("manifest.tsv"), manifest)?;
    Ok(())
}
