//! `hallmark witness serve`: the C2SP witness of `hallmark-witness` behind the bounded
//! serving loop every listener uses.

use std::sync::Arc;

use anyhow::Context as _;

use crate::args::witness::{WitnessCommand, WitnessServeArgs};
use crate::util::{OrExit as _, Outcome};

pub(crate) fn run(c: WitnessCommand) -> Outcome {
    match c {
        WitnessCommand::Serve(a) => serve(&a),
    }
}

fn serve(a: &WitnessServeArgs) -> Outcome {
    let config = a
        .config
        .clone()
        .unwrap_or_else(|| a.data_dir.join("logs.conf"));
    let text = std::fs::read_to_string(&config)
        .with_context(|| {
            format!(
                "cannot read the witnessed logs from {} (one `log <origin> <vkey>` line each)",
                config.display()
            )
        })
        .or_input()?;
    let logs = hallmark_witness::LogsConfig::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))
        .or_input()?;
    let witness = hallmark_witness::Witness::open(&a.data_dir, &a.name, logs)
        .context("cannot open the witness data directory")
        .or_input()?;
    let witness = Arc::new(witness);
    crate::serve::runtime()?.block_on(async move {
        let listener = crate::serve::bind(&a.listen).await?;
        let addr = listener
            .local_addr()
            .context("listener address")
            .or_failed()?;
        errln!("hallmark witness: key {}", witness.key());
        outln!("hallmark witness listening on http://{addr}");
        let app = hallmark_witness::server::router(witness);
        crate::serve::until_interrupted(listener, app).await
    })
}
