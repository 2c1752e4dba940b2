//! Progress bar on a terminal and Ctrl-C cancellation for the hashing engine.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hallmark_hash::{EngineOptions, MmapChoice, Progress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::common::EngineArgs;
use crate::util::EXIT_INTERRUPTED;

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, total_bytes: u64, _total_units: usize) {
        self.0.set_length(total_bytes);
        self.0.reset_eta();
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

/// The engine settings plus what the CLI must tidy up afterwards.
pub(crate) struct Engine {
    pub(crate) options: EngineOptions,
    pub(crate) bar: Option<ProgressBar>,
    pub(crate) cancel: Arc<AtomicBool>,
}

impl Engine {
    pub(crate) fn new(args: &EngineArgs, json: bool) -> Self {
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        // A second Ctrl-C while the first is being honoured exits at once; nothing
        // partial is on disk because signatures are written with a rename.
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
        });
        let show = !args.quiet
            && !json
            && std::io::stderr().is_terminal()
            && std::env::var_os("NO_PROGRESS").is_none();
        let bar = show.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} hashing [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        #[allow(unsafe_code)]
        let mmap = if args.mmap {
            // SAFETY: the user asked for `--mmap`, whose help states the contract of
            // `MmapChoice::always`: a trusted local tree nothing writes to meanwhile.
            unsafe { MmapChoice::always() }
        } else {
            MmapChoice::never()
        };
        let options = EngineOptions {
            threads: args.threads.unwrap_or(0),
            mmap,
            progress: bar.clone().map(|b| Arc::new(Bar(b)) as Arc<dyn Progress>),
            cancel: Some(Arc::clone(&cancel)),
            incremental: None,
        };
        Self {
            options,
            bar,
            cancel,
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }

    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}
