//! The signing key on a PKCS#11 token, found the way model_signing 1.1.1 finds it
//! (`_signing/sign_pkcs11.py`): load the module, pick the slot by `slot-id` or token
//! label, log in with the URI's PIN, take the private key and the public key with the
//! URI's label / id, read the public key from `CKA_EC_PARAMS` + `CKA_EC_POINT`. Signing
//! hashes the PAE on the host with the curve's hash and has the token do raw `CKM_ECDSA`
//! over the digest; the `r‖s` it returns is DER-encoded for the bundle.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::RawAuthPin;
use hallmark_crypto::{CryptoError, PublicKey, ecdsa_der_from_raw};
use hallmark_signing::{ExternalKey, SignError};

use super::uri::{Pkcs11Uri, UriError};

/// Where `module-name` is looked for: model_signing's directories, then Debian's.
fn module_dirs() -> Vec<PathBuf> {
    vec![
        PathBuf::from("/usr/lib64/pkcs11/"),
        PathBuf::from("/usr/lib/pkcs11/"),
        PathBuf::from(format!(
            "/usr/lib/{}-linux-gnu/pkcs11/",
            std::env::consts::ARCH
        )),
    ]
}

/// Why the token's key cannot be used. Messages name the module, token and key; never
/// the PIN.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenError {
    /// The URI is unusable.
    #[error(transparent)]
    Uri(#[from] UriError),
    /// Neither `module-path` nor `module-name`.
    #[error(
        "the PKCS#11 URI names no module: add module-path=/path/to/module.so (or module-name=NAME)"
    )]
    NoModule,
    /// `module-name` matched no file.
    #[error("no PKCS#11 module '{name}' in {dirs}")]
    ModuleNotFound {
        /// The name looked for.
        name: String,
        /// Where.
        dirs: String,
    },
    /// `module-path` is neither a file nor a directory.
    #[error("PKCS#11 module-path {path} does not exist")]
    ModuleMissing {
        /// The path.
        path: String,
    },
    /// The module cannot be loaded or initialised.
    #[error("cannot load PKCS#11 module {path}: {source}")]
    Module {
        /// The module file.
        path: String,
        /// The loader's or the module's error.
        #[source]
        source: CkError,
    },
    /// No slot holds the token.
    #[error("PKCS#11 module {module}: no token {wanted} in any of its {slots} slot(s)")]
    NoToken {
        /// The module file.
        module: String,
        /// Which token was asked for.
        wanted: String,
        /// How many slots with a token there are.
        slots: usize,
    },
    /// The PIN was refused.
    #[error("PKCS#11 token '{token}': login refused: {reason}")]
    Login {
        /// Token label.
        token: String,
        /// Why (the PIN itself is never shown).
        reason: String,
    },
    /// The key the URI names is not on the token.
    #[error("PKCS#11 token '{token}' has no {class} with {key}{hint}")]
    NoObject {
        /// Token label.
        token: String,
        /// `private key` or `public key`.
        class: &'static str,
        /// `label 'k' and id 0a0b`.
        key: String,
        /// Extra advice.
        hint: &'static str,
    },
    /// The public key is not a usable EC key.
    #[error("PKCS#11 token '{token}', key with {key}: {source}")]
    Key {
        /// Token label.
        token: String,
        /// The key.
        key: String,
        /// Why.
        #[source]
        source: Box<CryptoError>,
    },
    /// A token operation failed.
    #[error("PKCS#11 token '{token}': {operation} failed: {source}")]
    Token {
        /// Token label.
        token: String,
        /// What was being done.
        operation: &'static str,
        /// The module's error.
        #[source]
        source: CkError,
    },
}

/// The module file a URI names: `module-path` (a file, or a directory to search with
/// `module-name`), else `module-name` searched in [`module_dirs`].
pub(crate) fn module_of(uri: &Pkcs11Uri) -> Result<PathBuf, TokenError> {
    let dirs = match uri.module_path() {
        Some(p) if p.is_file() => return Ok(p),
        Some(p) if p.is_dir() => vec![p],
        Some(p) => {
            return Err(TokenError::ModuleMissing {
                path: p.display().to_string(),
            });
        }
        None => module_dirs(),
    };
    let name = uri
        .module_name()
        .ok_or(TokenError::NoModule)?
        .to_lowercase();
    for dir in &dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let file_name = f
                .file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if let Some(i) = file_name.find(&name) {
                let after = &file_name[i + name.len()..];
                if after.is_empty() || after.starts_with('.') {
                    return Ok(f);
                }
            }
        }
    }
    Err(TokenError::ModuleNotFound {
        name,
        dirs: dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// A logged-in session on the token and the key it signs with.
pub(crate) struct TokenKey {
    session: Mutex<Session>,
    key: ObjectHandle,
    public: PublicKey,
    token: String,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("token", &self.token)
            .field("public_key", &self.public.fingerprint())
            .finish_non_exhaustive()
    }
}

impl TokenKey {
    /// Loads the module, logs in and finds the key the URI names.
    pub(crate) fn open(uri: &Pkcs11Uri) -> Result<Self, TokenError> {
        let pin = uri.pin()?;
        let module = module_of(uri)?;
        let module_name = module.display().to_string();
        let load = |source| TokenError::Module {
            path: module_name.clone(),
            source,
        };
        let ctx = Pkcs11::new(&module).map_err(load)?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(load(e)),
        }
        let (slot, token) = find_slot(&ctx, uri, &module)?;
        let op = |operation: &'static str| {
            let token = token.clone();
            move |source| TokenError::Token {
                token,
                operation,
                source,
            }
        };
        let session = ctx.open_ro_session(slot).map_err(op("opening a session"))?;
        if let Some(pin) = &pin {
            let raw = RawAuthPin::new(Box::new(pin.bytes().to_vec()));
            match session.login_with_raw(UserType::User, &raw) {
                Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
                Err(e) => {
                    return Err(TokenError::Login {
                        token,
                        reason: login_refusal(&e, pin.bytes(), pin.source.as_deref()),
                    });
                }
            }
        }
        let describe = uri.object_description();
        let find = |class: ObjectClass, name: &'static str| -> Result<ObjectHandle, TokenError> {
            let mut template = vec![Attribute::Class(class)];
            if let Some(label) = uri.object() {
                template.push(Attribute::Label(label.to_vec()));
            }
            if let Some(id) = uri.id() {
                template.push(Attribute::Id(id.to_vec()));
            }
            let found = session
                .find_objects(&template)
                .map_err(op("searching for the key"))?;
            found.first().copied().ok_or_else(|| TokenError::NoObject {
                token: token.clone(),
                class: name,
                key: describe.clone(),
                hint: if pin.is_none() && class == ObjectClass::PRIVATE_KEY {
                    " (the URI has no PIN: private keys are usually visible only after login; add pin-value or pin-source)"
                } else {
                    ""
                },
            })
        };
        let key = find(ObjectClass::PRIVATE_KEY, "private key")?;
        let public_object = find(ObjectClass::PUBLIC_KEY, "public key")?;
        let attributes = session
            .get_attributes(
                public_object,
                &[AttributeType::EcParams, AttributeType::EcPoint],
            )
            .map_err(op("reading the public key"))?;
        let (mut params, mut point) = (None, None);
        for a in attributes {
            match a {
                Attribute::EcParams(v) => params = Some(v),
                Attribute::EcPoint(v) => point = Some(v),
                _ => {}
            }
        }
        let source = format!("PKCS#11 token '{token}'");
        let public = match (params, point) {
            (Some(params), Some(point)) => {
                PublicKey::from_ec_params_point(&params, &point, &source)
            }
            _ => Err(CryptoError::UnsupportedKey {
                source_name: source,
                key_type: "not an elliptic-curve key (no CKA_EC_PARAMS / CKA_EC_POINT)".into(),
            }),
        }
        .map_err(|source| TokenError::Key {
            token: token.clone(),
            key: describe.clone(),
            source: Box::new(source),
        })?;
        Ok(Self {
            session: Mutex::new(session),
            key,
            public,
            token,
        })
    }
}

/// The slot holding the token the URI names, and the token's label.
fn find_slot(ctx: &Pkcs11, uri: &Pkcs11Uri, module: &Path) -> Result<(Slot, String), TokenError> {
    let wanted = uri.token();
    let filters = uri.token_filters();
    let matches = |info: &cryptoki::slot::TokenInfo| {
        wanted
            .as_deref()
            .is_none_or(|w| info.label() == w.trim_end())
            && filters.iter().all(|(k, v)| {
                let have = match *k {
                    "manufacturer" => info.manufacturer_id(),
                    "model" => info.model(),
                    _ => info.serial_number(),
                };
                have == v.trim_end()
            })
    };
    let no_token = |slots: usize| TokenError::NoToken {
        module: module.display().to_string(),
        wanted: match (uri.slot_id(), &wanted) {
            (Some(id), Some(w)) => format!("'{w}' in slot {id}"),
            (Some(id), None) => format!("in slot {id}"),
            (None, Some(w)) => format!("'{w}'"),
            (None, None) => "(the URI names neither token nor slot-id)".to_owned(),
        },
        slots,
    };
    let slots = ctx
        .get_slots_with_token()
        .map_err(|source| TokenError::Module {
            path: module.display().to_string(),
            source,
        })?;
    if uri.slot_id().is_none() && wanted.is_none() {
        return Err(no_token(slots.len()));
    }
    for slot in &slots {
        if uri.slot_id().is_some_and(|id| slot.id() != id) {
            continue;
        }
        if let Ok(info) = ctx.get_token_info(*slot)
            && matches(&info)
        {
            return Ok((*slot, info.label().to_owned()));
        }
    }
    Err(no_token(slots.len()))
}

/// Why a login failed, in words; a PIN from a file that ends in a newline gets a hint.
fn login_refusal(e: &CkError, pin: &[u8], source: Option<&Path>) -> String {
    match e {
        CkError::Pkcs11(RvError::PinIncorrect, _) => {
            let mut s = "the PIN is incorrect (CKR_PIN_INCORRECT)".to_owned();
            if let Some(file) = source
                && pin.ends_with(b"\n")
            {
                s.push_str(&format!(
                    "; the pin-source file {} ends with a newline, which is read as part of the PIN (as model_signing does)",
                    file.display()
                ));
            }
            s
        }
        CkError::Pkcs11(RvError::PinLocked, _) => "the PIN is locked (CKR_PIN_LOCKED)".to_owned(),
        CkError::Pkcs11(RvError::PinExpired, _) => {
            "the PIN has expired (CKR_PIN_EXPIRED)".to_owned()
        }
        other => other.to_string(),
    }
}

impl ExternalKey for TokenKey {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, SignError> {
        let curve = self.public.curve();
        let session = self
            .session
            .lock()
            .map_err(|_| SignError::ExternalKey("the PKCS#11 session is poisoned".into()))?;
        let raw = session
            .sign(&Mechanism::Ecdsa, self.key, digest)
            .map_err(|source| {
                SignError::ExternalKey(Box::new(TokenError::Token {
                    token: self.token.clone(),
                    operation: "C_Sign (CKM_ECDSA)",
                    source,
                }))
            })?;
        Ok(ecdsa_der_from_raw(curve, &raw)?)
    }
}
