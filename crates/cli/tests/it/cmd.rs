//! A `hallmark` command line built up from the blocks the tests repeat (`verify key MODEL
//! --signature SIG --public-key KEY`, …), then run: exit status and output in [`Out`].

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What one run of the binary did.
#[derive(Debug)]
pub(crate) struct Out {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Out {
    /// Asserts the exit status and that stderr (or stdout) contains every word.
    #[track_caller]
    pub(crate) fn expect(&self, code: i32, words: &[&str]) -> &Self {
        assert_eq!(self.code, code, "unexpected exit status: {self:#?}");
        for w in words {
            assert!(
                self.stderr.contains(w) || self.stdout.contains(w),
                "output should mention {w:?}: {self:#?}"
            );
        }
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked: {self:#?}"
        );
        self
    }

    /// stdout as JSON.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:#?}"))
    }
}

/// One `hallmark` invocation: its arguments and the directory it runs in (the repository
/// root unless [`Cmd::cwd`] says otherwise).
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    envs: Vec<(OsString, OsString)>,
    umask: Option<u32>,
}

impl Cmd {
    /// `hallmark ARGS…`
    pub(crate) fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Self {
            args: Vec::new(),
            cwd: None,
            envs: Vec::new(),
            umask: None,
        }
        .args(args)
    }

    /// `verify METHOD MODEL --signature SIG`
    fn verify(method: &str, model: impl AsRef<OsStr>, signature: impl AsRef<OsStr>) -> Self {
        Self::new(["verify".as_ref(), method.as_ref(), model.as_ref()])
            .opt("--signature", signature)
    }

    /// `verify key MODEL --signature SIG --public-key KEY`
    pub(crate) fn verify_key(
        model: impl AsRef<OsStr>,
        signature: impl AsRef<OsStr>,
        public_key: impl AsRef<OsStr>,
    ) -> Self {
        Self::verify("key", model, signature).opt("--public-key", public_key)
    }

    /// `verify certificate MODEL --signature SIG --certificate-chain ROOTS`
    pub(crate) fn verify_certificate(
        model: impl AsRef<OsStr>,
        signature: impl AsRef<OsStr>,
        chain: impl AsRef<OsStr>,
    ) -> Self {
        Self::verify("certificate", model, signature).opt("--certificate-chain", chain)
    }

    /// `verify sigstore MODEL --signature SIG --identity ID --identity-provider ISSUER
    /// --trust-config CONFIG`
    pub(crate) fn verify_sigstore(
        model: impl AsRef<OsStr>,
        signature: impl AsRef<OsStr>,
        identity: &str,
        issuer: &str,
        trust_config: impl AsRef<OsStr>,
    ) -> Self {
        Self::verify("sigstore", model, signature)
            .opt("--identity", identity)
            .opt("--identity-provider", issuer)
            .opt("--trust-config", trust_config)
    }

    /// `sign key MODEL --private-key KEY`
    pub(crate) fn sign_key(model: impl AsRef<OsStr>, private_key: impl AsRef<OsStr>) -> Self {
        Self::new(["sign".as_ref(), "key".as_ref(), model.as_ref()])
            .opt("--private-key", private_key)
    }

    /// Appends one argument.
    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends arguments.
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Appends `FLAG VALUE`.
    pub(crate) fn opt(self, flag: &str, value: impl AsRef<OsStr>) -> Self {
        self.arg(flag).arg(value)
    }

    /// Appends `--json`.
    pub(crate) fn json(self) -> Self {
        self.arg("--json")
    }

    /// Runs in `dir` instead of the repository root.
    pub(crate) fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_owned());
        self
    }

    /// Sets an environment variable for the run.
    pub(crate) fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Runs the binary under this umask (through `sh -c 'umask M; exec …'`).
    pub(crate) fn umask(mut self, mask: u32) -> Self {
        self.umask = Some(mask);
        self
    }

    /// Runs the binary and collects what it did.
    pub(crate) fn run(&self) -> Out {
        let bin = env!("CARGO_BIN_EXE_hallmark");
        let mut command = match self.umask {
            Some(mask) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("umask {mask:03o} && exec \"$0\" \"$@\""))
                    .arg(bin);
                c
            }
            None => Command::new(bin),
        };
        let out = command
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .current_dir(self.cwd.clone().unwrap_or_else(hallmark_testkit::repo))
            .output()
            .expect("run hallmark");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
