//! `hallmark hub export`: the hub's revisions as a GUAC-compatible collection of
//! CycloneDX, SPDX 3, in-toto and Sigstore documents (hallmark-hub's `export` module),
//! read from the data directory like `hub admin` (usable while the server runs).

use hallmark_hub::HubConfig;
use hallmark_hub::export::{ExportFilter, ExportOptions, export, parse_time};

use crate::args::hub::ExportArgs;
use crate::util::{Failure, OrExit as _};

pub(crate) async fn run(a: ExportArgs) -> Result<(), Failure> {
    let mut config = HubConfig::new(a.data_dir.clone(), "http://localhost");
    config.database = a.database;
    config.blob_store = a.blob_store;
    let filter = ExportFilter {
        since: parse_time("--since", &a.since).or_input()?,
        until: a
            .until
            .as_deref()
            .map(|u| parse_time("--until", u))
            .transpose()
            .or_input()?,
        org: a.org,
        repo: a.repo,
    };
    let meta = hallmark_hub::open_existing_meta(&config).await.or_input()?;
    let blobs = hallmark_hub::open_blobs(&config).or_input()?;
    let opts = ExportOptions {
        filter,
        force: a.force,
        hub_url: a.public_url,
    };
    let s = export(&*meta, &blobs, &opts, &a.dir).await.or_input()?;
    outln!(
        "exported {} revisions ({} files) to {}",
        s.revisions,
        s.files,
        s.dir.display()
    );
    Ok(())
}
