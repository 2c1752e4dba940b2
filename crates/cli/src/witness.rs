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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")
        .or_input()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))
            .or_input()?;
        let addr = listener
            .local_addr()
            .context("listener address")
            .or_failed()?;
        errln!("hallmark witness: key {}", witness.key());
        outln!("hallmark witness listening on http://{addr}");
        let app = hallmark_witness::server::router(witness);
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        hallmark_instance::listen::raise_fd_limit();
        let limits = hallmark_instance::listen::ServeLimits::default();
        hallmark_instance::listen::serve(listener, app, &limits, shutdown)
            .await
            .context("server error")
            .or_failed()?;
        Ok(0)
    })
}
