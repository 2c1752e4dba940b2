//! S3-compatible object storage from a URL: `s3://BUCKET[/PREFIX]?endpoint=URL&region=R`.
//!
//! Credentials come from the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! optionally `AWS_SESSION_TOKEN`), never from the URL, so they stay out of process
//! listings and logs. Query parameters:
//!
//! * `endpoint` — the server (`http://127.0.0.1:3900` for Garage, MinIO, …); omitted for
//!   AWS itself. Path-style requests are used whenever an endpoint is given.
//! * `region` — signing region (default `us-east-1`, or `AWS_REGION`).
//! * `allow_http` — `true` to permit a plain-HTTP endpoint (implied by an `http://` one).
//!
//! Conditional writes (`PutMode::Create` → `If-None-Match: *`) are on: the transparency
//! log and blob deduplication rely on them. The HTTP client is reqwest on rustls with
//! aws-lc-rs (object_store's `aws` feature), no OpenSSL or ring.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, S3ConditionalPut};
use object_store::prefix::PrefixStore;

use crate::error::{Result, StoreError};

/// A parsed `s3://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Url {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix inside the bucket (no leading or trailing `/`), possibly empty.
    pub prefix: String,
    /// Custom endpoint.
    pub endpoint: Option<String>,
    /// Signing region.
    pub region: Option<String>,
    /// Plain HTTP permitted.
    pub allow_http: bool,
}

impl S3Url {
    /// Parses `s3://bucket[/prefix]?endpoint=…&region=…&allow_http=…`.
    ///
    /// # Errors
    /// [`StoreError::Config`] naming what is wrong with the URL.
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| StoreError::Config(format!("blob store URL {url:?}: {why}"));
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("must start with s3://"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name"));
        }
        let mut out = Self {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            endpoint: None,
            region: None,
            allow_http: false,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "endpoint" => {
                    out.allow_http |= v.starts_with("http://");
                    out.endpoint = Some(v.to_owned());
                }
                "region" => out.region = Some(v.to_owned()),
                "allow_http" => out.allow_http = v == "true" || v == "1",
                other => return Err(bad(&format!("unknown parameter {other:?}"))),
            }
        }
        Ok(out)
    }

    /// Builds the store (credentials from the environment), scoped to the prefix.
    ///
    /// # Errors
    /// [`StoreError::Blob`] when object_store rejects the configuration.
    pub fn build(&self) -> Result<Arc<dyn ObjectStore>> {
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&self.bucket)
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .with_allow_http(self.allow_http);
        if let Some(e) = &self.endpoint {
            b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
        }
        if let Some(r) = &self.region {
            b = b.with_region(r);
        }
        let s3 = b.build()?;
        Ok(if self.prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, self.prefix.as_str()))
        })
    }
}

/// Opens `s3://…` as an object store (see the module docs).
///
/// # Errors
/// A malformed URL or a rejected configuration.
pub fn s3_store(url: &str) -> Result<Arc<dyn ObjectStore>> {
    S3Url::parse(url)?.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let u = S3Url::parse("s3://b/p/q/?endpoint=http://127.0.0.1:3900&region=garage").unwrap();
        assert_eq!(u.bucket, "b");
        assert_eq!(u.prefix, "p/q");
        assert_eq!(u.endpoint.as_deref(), Some("http://127.0.0.1:3900"));
        assert_eq!(u.region.as_deref(), Some("garage"));
        assert!(u.allow_http);
        let u = S3Url::parse("s3://b").unwrap();
        assert!(!u.allow_http && u.prefix.is_empty() && u.endpoint.is_none());
        assert!(S3Url::parse("http://b").is_err());
        assert!(S3Url::parse("s3://?region=x").is_err());
        assert!(S3Url::parse("s3://b?secret=x").is_err());
    }
}
