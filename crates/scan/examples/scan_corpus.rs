//! Writes the generated test corpus to a directory (for `benches/scan-compare.sh`):
//! `DIR/malicious/*`, `DIR/benign/*` and `DIR/manifest.tsv` (name, expectation, class).
//! With `--bench DIR MIB`, writes instead a benign throughput set of about MIB mebibytes:
//! half safetensors files, half PyTorch zips, 256 MiB each.

#[path = "../tests/it/corpus.rs"]
mod corpus;

fn bench(dir: &std::path::Path, mib: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let per_file = 256usize;
    let files = (mib / per_file).max(2);
    let chunk = 4usize << 20;
    for i in 0..files {
        if i % 2 == 0 {
            let names: Vec<String> = (0..per_file / 4)
                .map(|t| format!("layers.{t}.weight"))
                .collect();
            let tensors: Vec<(&str, &str, &[u64], usize)> = names
                .iter()
                .map(|n| (n.as_str(), "F32", &[1024u64, 1024][..], chunk))
                .collect();
            std::fs::write(
                dir.join(format!("model-{i:05}.safetensors")),
                corpus::safetensors(&tensors, r#"{"format":"pt"}"#),
            )?;
        } else {
            let mut z = corpus::Zip::default();
            z.add(
                "archive/data.pkl",
                &corpus::torch_state_dict("archive"),
                false,
            );
            let blob = vec![0x3cu8; chunk];
            for t in 0..per_file / 4 {
                z.add(&format!("archive/data/{t}"), &blob, false);
            }
            z.add("archive/version", b"3\n", false);
            std::fs::write(dir.join(format!("pytorch_model-{i:05}.bin")), z.finish())?;
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--bench") {
        let dir =
            std::path::PathBuf::from(args.get(2).cloned().unwrap_or_else(|| "scan-bench".into()));
        let mib = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2048);
        return bench(&dir, mib);
    }
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
