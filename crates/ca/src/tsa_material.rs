//! The timestamp authority's keys and certificates, created on first start and reloaded
//! afterwards.
//!
//! Layout of the TSA directory: `root.pem` (the TSA root, ECDSA P-384, whose key is thrown
//! away once it has certified the signer), `tsa.pem` (the signing certificate, ECDSA P-256:
//! critical ExtendedKeyUsage id-kp-timeStamping only, critical KeyUsage digitalSignature,
//! as RFC 3161 §2.3 and sigstore-python/rfc3161-client require) and `tsa.key` (PKCS#8 DER,
//! mode 0600, never logged).

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::str::FromStr as _;
use std::time::SystemTime;

use hallmark_crypto::{Certificate, Curve, SigningKey};
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::name::Name;

use crate::error::CaError;
use crate::material::{Root, load_cert, load_key, write_certificate, write_new};
use crate::tbs::{basic_constraints, extended_key_usage, key_usage};

/// id-kp-timeStamping (RFC 5280 §4.2.1.12).
const OID_KP_TIME_STAMPING: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// Keys and certificates of a timestamp authority.
pub struct TsaMaterial {
    /// The TSA root certificate (DER).
    pub root_der: Vec<u8>,
    /// The signing certificate (DER), issued by the root.
    pub leaf_der: Vec<u8>,
    /// The signing certificate, parsed.
    pub leaf: Certificate,
    /// The signing key.
    pub key: SigningKey,
}

impl std::fmt::Debug for TsaMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsaMaterial")
            .field("leaf", &self.leaf.subject())
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl TsaMaterial {
    /// Loads the TSA from `dir`, or creates it there (named after `org`) on first use.
    ///
    /// # Errors
    /// The files cannot be read, written or parsed.
    pub fn load_or_create(dir: &Path, org: &str) -> Result<Self, CaError> {
        fs::create_dir_all(dir).map_err(|source| CaError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
        if !dir.join("tsa.pem").exists() {
            Self::create(dir, org)?;
        }
        let leaf_der = load_cert(&dir.join("tsa.pem"))?;
        let leaf = Certificate::from_der(&leaf_der).map_err(|e| CaError::BadMaterial {
            path: dir.join("tsa.pem"),
            reason: e.to_string(),
        })?;
        Ok(Self {
            root_der: load_cert(&dir.join("root.pem"))?,
            leaf_der,
            leaf,
            key: load_key(&dir.join("tsa.key"))?,
        })
    }

    /// When the signing certificate became valid (the trust root's `validFor.start`).
    #[must_use]
    pub fn valid_from(&self) -> SystemTime {
        self.leaf.not_before()
    }

    /// The trusted root's `timestampAuthorities[]` entry for a TSA served at `uri`: chain
    /// [signing certificate, root] (stock clients skip authorities with fewer than two).
    #[must_use]
    pub fn trusted_root_entry(&self, uri: &str, org: &str) -> serde_json::Value {
        use base64::Engine as _;
        let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
        let start = der::DateTime::from_system_time(self.valid_from())
            .map_or_else(|_| "1970-01-01T00:00:00Z".to_owned(), |d| d.to_string());
        serde_json::json!({
            "subject": { "organization": org, "commonName": format!("{org} timestamp authority") },
            "uri": uri,
            "certChain": { "certificates": [ { "rawBytes": b64(&self.leaf_der) }, { "rawBytes": b64(&self.root_der) } ] },
            "validFor": { "start": start },
            "operator": org,
        })
    }

    fn create(dir: &Path, org: &str) -> Result<(), CaError> {
        let org = org.replace([',', '=', '+', '"', '\\', '<', '>', ';'], " ");
        let key = SigningKey::generate(Curve::P256)?;
        let root = Root::create(
            Name::from_str(&format!("CN={org} timestamp root,O={org}"))?,
            0,
            SystemTime::now(),
        )?;
        let leaf_der = root.issue(
            Name::from_str(&format!("CN={org} timestamp authority,O={org}"))?,
            key.public_key().spki_der().to_vec(),
            vec![
                basic_constraints(None)?,
                key_usage(KeyUsage(KeyUsages::DigitalSignature.into()))?,
                extended_key_usage(OID_KP_TIME_STAMPING, true)?,
            ],
        )?;
        write_new(&dir.join("tsa.key"), &key.to_pkcs8_der()?, 0o600)?;
        write_certificate(&dir.join("root.pem"), &root.der)?;
        // Written last: its presence marks a complete TSA.
        write_certificate(&dir.join("tsa.pem"), &leaf_der)
    }
}
