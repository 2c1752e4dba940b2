//! `--pkcs11-uri` of `hallmark sign pkcs11-key|pkcs11-certificate` (model_signing 1.1.1's
//! flag); the commands' structs are in `sign.rs`.

use std::fmt;

use clap::Args;

/// The `--pkcs11-uri` text as given. It may hold `pin-value`, so `Debug` hides it.
#[derive(Clone)]
pub(crate) struct UriArg(pub(crate) String);

impl fmt::Debug for UriArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UriArg(<redacted>)")
    }
}

fn uri_arg(s: &str) -> Result<UriArg, std::convert::Infallible> {
    Ok(UriArg(s.to_owned()))
}

/// The key on the token.
#[derive(Debug, Args)]
pub(crate) struct Pkcs11UriArgs {
    /// RFC 7512 URI of the key, e.g.
    /// `pkcs11:token=T;object=LABEL?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/pin`
    /// (`id=%0A%0B` instead of or with `object`; `slot-id=N` instead of or with `token`;
    /// `module-name=NAME` searched in /usr/lib64/pkcs11, /usr/lib/pkcs11 and
    /// /usr/lib/<arch>-linux-gnu/pkcs11; `pin-value=PIN` works but shows in `ps`).
    #[arg(long = "pkcs11-uri", alias = "pkcs11_uri", value_name = "URI", value_parser = uri_arg)]
    pub(crate) pkcs11_uri: UriArg,
}
