//! The CA's keys and certificates, created on first start and reloaded afterwards.
//!
//! Layout of the CA directory: `root.pem`, `intermediate.pem` (certificates) and
//! `root.key`, `intermediate.key`, `ctlog.key` (PKCS#8 DER, mode 0600).

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_crypto::{Certificate, Curve, SigningKey};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::name::Name;

use crate::error::CaError;
use crate::tbs::{
    OID_KP_CODE_SIGNING, TbsParts, authority_key_id, basic_constraints, extended_key_usage,
    key_identifier, key_usage, random_serial, sign, subject_key_id, tbs, validity,
};

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// Keys and certificates of a CA instance.
pub struct CaMaterial {
    /// Root certificate (DER).
    pub root_der: Vec<u8>,
    /// Intermediate certificate (DER), which issues leaves.
    pub intermediate_der: Vec<u8>,
    /// The intermediate's key.
    pub intermediate_key: SigningKey,
    /// The CT log key that signs embedded SCTs.
    pub ct_key: SigningKey,
    /// When the intermediate became valid (the trust root's `validFor.start`).
    pub valid_from: SystemTime,
}

impl std::fmt::Debug for CaMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaMaterial")
            .field("intermediate_key", &self.intermediate_key)
            .field("ct_key", &self.ct_key)
            .finish_non_exhaustive()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CaError + '_ {
    move |source| CaError::Io {
        path: path.to_owned(),
        source,
    }
}

/// PEM text for a DER blob.
#[must_use]
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

pub(crate) fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), CaError> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

pub(crate) fn load_key(path: &Path) -> Result<SigningKey, CaError> {
    let der = zeroize::Zeroizing::new(fs::read(path).map_err(io(path))?);
    SigningKey::from_pkcs8_der(&der, &path.display().to_string()).map_err(|e| {
        CaError::BadMaterial {
            path: path.to_owned(),
            reason: e.to_string(),
        }
    })
}

pub(crate) fn load_cert(path: &Path) -> Result<Vec<u8>, CaError> {
    let text = fs::read(path).map_err(io(path))?;
    let certs =
        hallmark_crypto::load_certificates_pem_with_source(&text, &path.display().to_string())
            .map_err(|e| CaError::BadMaterial {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
    certs
        .first()
        .map(|c| c.der().to_vec())
        .ok_or_else(|| CaError::BadMaterial {
            path: path.to_owned(),
            reason: "no certificate".into(),
        })
}

/// A root CA created with its issuer: a new P-384 key, a self-signed certificate valid from
/// a minute before `now` for ten years (keyCertSign and cRLSign, `path_len` CAs allowed
/// below it), and what it takes to issue certificates under it.
pub(crate) struct Root {
    /// The root's key.
    pub(crate) key: SigningKey,
    /// The root certificate (DER).
    pub(crate) der: Vec<u8>,
    name: Name,
    key_id: Vec<u8>,
    now: SystemTime,
}

impl Root {
    /// Creates the root named `name` (see [`Root`]).
    pub(crate) fn create(name: Name, path_len: u8, now: SystemTime) -> Result<Self, CaError> {
        let key = SigningKey::generate(Curve::P384)?;
        let spki = key.public_key().spki_der().to_vec();
        let key_id = key_identifier(&spki)?;
        let parts = TbsParts {
            serial: random_serial()?,
            issuer: name.clone(),
            subject: name.clone(),
            validity: validity(now - Duration::from_secs(60), now + 10 * YEAR)?,
            spki_der: spki,
            extensions: vec![
                basic_constraints(Some(path_len))?,
                key_usage(KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign))?,
                subject_key_id(&key_id)?,
            ],
        };
        let der = sign(tbs(parts, Curve::P384)?, &key)?;
        Ok(Self {
            key,
            der,
            name,
            key_id,
            now,
        })
    }

    /// A certificate for `spki_der` named `subject`, valid from a minute before `now` for
    /// five years: `extensions` plus its subject and authority key identifiers.
    pub(crate) fn issue(
        &self,
        subject: Name,
        spki_der: Vec<u8>,
        mut extensions: Vec<Extension>,
    ) -> Result<Vec<u8>, CaError> {
        extensions.push(subject_key_id(&key_identifier(&spki_der)?)?);
        extensions.push(authority_key_id(&self.key_id)?);
        let parts = TbsParts {
            serial: random_serial()?,
            issuer: self.name.clone(),
            subject,
            validity: validity(self.now - Duration::from_secs(60), self.now + 5 * YEAR)?,
            spki_der,
            extensions,
        };
        sign(tbs(parts, Curve::P384)?, &self.key)
    }
}

/// Writes certificate `der` to `path` as PEM, readable by all (0644).
pub(crate) fn write_certificate(path: &Path, der: &[u8]) -> Result<(), CaError> {
    write_new(path, pem("CERTIFICATE", der).as_bytes(), 0o644)
}

impl CaMaterial {
    /// Loads the CA from `dir`, or creates it there (named after `org`) on first use.
    pub fn load_or_create(dir: &Path, org: &str) -> Result<Self, CaError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
        let p = |n: &str| -> PathBuf { dir.join(n) };
        if !p("intermediate.pem").exists() {
            Self::create(dir, org)?;
        }
        let intermediate_der = load_cert(&p("intermediate.pem"))?;
        let valid_from = Certificate::from_der(&intermediate_der)
            .map_err(|e| CaError::BadMaterial {
                path: p("intermediate.pem"),
                reason: e.to_string(),
            })?
            .not_before();
        Ok(Self {
            root_der: load_cert(&p("root.pem"))?,
            intermediate_der,
            intermediate_key: load_key(&p("intermediate.key"))?,
            ct_key: load_key(&p("ctlog.key"))?,
            valid_from,
        })
    }

    fn create(dir: &Path, org: &str) -> Result<(), CaError> {
        let org = org.replace([',', '=', '+', '"', '\\', '<', '>', ';'], " ");
        let inter_key = SigningKey::generate(Curve::P256)?;
        let ct_key = SigningKey::generate(Curve::P256)?;
        let root = Root::create(
            Name::from_str(&format!("CN={org} root,O={org}"))?,
            1,
            SystemTime::now(),
        )?;
        let inter_der = root.issue(
            Name::from_str(&format!("CN={org} intermediate,O={org}"))?,
            inter_key.public_key().spki_der().to_vec(),
            vec![
                basic_constraints(Some(0))?,
                key_usage(KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign))?,
                extended_key_usage(OID_KP_CODE_SIGNING, false)?,
            ],
        )?;
        write_new(&dir.join("root.key"), &root.key.to_pkcs8_der()?, 0o600)?;
        write_new(
            &dir.join("intermediate.key"),
            &inter_key.to_pkcs8_der()?,
            0o600,
        )?;
        write_new(&dir.join("ctlog.key"), &ct_key.to_pkcs8_der()?, 0o600)?;
        write_certificate(&dir.join("root.pem"), &root.der)?;
        // Written last: its presence marks a complete CA.
        write_certificate(&dir.join("intermediate.pem"), &inter_der)
    }
}
