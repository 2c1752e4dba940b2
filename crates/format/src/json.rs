//! Small helpers for walking untrusted JSON with field-naming errors.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::error::{FieldRefusal, FormatError};

/// Standard alphabet; emits padding, accepts input with or without it.
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encodes standard, padded base64 (RFC 4648 §4), as protobuf JSON and Python expect.
#[must_use]
pub fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn b64_decode(what: &str, s: &str) -> Result<Vec<u8>, FormatError> {
    STANDARD_LENIENT
        .decode(s.trim_end_matches('\n'))
        .map_err(|source| FormatError::Base64 {
            field: what.to_owned(),
            source,
        })
}

pub(crate) struct Obj<'a> {
    pub(crate) doc: &'static str,
    pub(crate) path: String,
    pub(crate) map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(doc: &'static str, path: &str, v: &'a Value) -> Result<Self, FormatError> {
        match v {
            Value::Object(map) => Ok(Self {
                doc,
                path: path.to_owned(),
                map,
            }),
            _ => Err(FormatError::BadField {
                what: doc,
                field: path.to_owned(),
                reason: FieldRefusal::NotObject,
            }),
        }
    }

    pub(crate) fn field_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn req(&self, key: &str) -> Result<&'a Value, FormatError> {
        self.get(key).ok_or_else(|| FormatError::MissingField {
            what: self.doc,
            field: self.field_path(key),
        })
    }

    pub(crate) fn bad(&self, key: &str, reason: FieldRefusal) -> FormatError {
        FormatError::BadField {
            what: self.doc,
            field: self.field_path(key),
            reason,
        }
    }

    pub(crate) fn req_str(&self, key: &str) -> Result<&'a str, FormatError> {
        self.req(key)?
            .as_str()
            .ok_or_else(|| self.bad(key, FieldRefusal::NotString))
    }

    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, FormatError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| self.bad(key, FieldRefusal::NotString)),
        }
    }

    pub(crate) fn req_obj(&self, key: &str) -> Result<Obj<'a>, FormatError> {
        Obj::new(self.doc, &self.field_path(key), self.req(key)?)
    }

    pub(crate) fn req_array(&self, key: &str) -> Result<&'a Vec<Value>, FormatError> {
        self.req(key)?
            .as_array()
            .ok_or_else(|| self.bad(key, FieldRefusal::NotArray))
    }

    /// Refuses keys outside `allowed` (camelCase or snake_case spellings may both be listed).
    pub(crate) fn deny_unknown(&self, allowed: &[&str]) -> Result<(), FormatError> {
        for k in self.map.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(FormatError::UnknownField {
                    what: self.doc,
                    field: self.field_path(k),
                });
            }
        }
        Ok(())
    }

    /// Looks a key up under its camelCase or snake_case name.
    pub(crate) fn get_either(&self, camel: &str, snake: &str) -> Option<&'a Value> {
        self.get(camel).or_else(|| self.get(snake))
    }
}

pub(crate) fn parse_hex(what: &'static str, field: &str, s: &str) -> Result<Vec<u8>, FormatError> {
    hex::decode(s).map_err(|e| FormatError::BadField {
        what,
        field: field.to_owned(),
        reason: FieldRefusal::NotHex(e),
    })
}
