//! Identification of protobuf model files by structure (ONNX `ModelProto`, TensorFlow
//! `SavedModel`, Keras `keras_metadata.pb`, SavedModel fingerprints) and routing to
//! their scanners. Kept apart from the wire reader they all share, so `onnx` and
//! `savedmodel` import `protobuf` and only this module imports them.

use std::io::SeekFrom;

use super::protobuf::{Pb, Wire, top_fields};
use super::{onnx, savedmodel};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::io::{Input, ReadSeek};

/// Identifies and scans protobuf model files; `None` when the content is not one.
pub(crate) fn scan(
    r: &mut dyn ReadSeek,
    len: u64,
    member: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Option<&'static str>> {
    let Some(fields) = top_fields(r, len, ctx) else {
        return Ok(None);
    };
    let has = |n: u32| fields.iter().any(|(f, _)| *f == n);
    let all = |ok: &dyn Fn(u32, Wire) -> bool| {
        !fields.is_empty() && fields.iter().all(|(f, w)| ok(*f, *w))
    };
    let kind = if has(7) && has(8) && matches!(fields.first(), Some((1, Wire::Varint))) {
        "onnx"
    } else if has(2) && all(&|f, w| matches!((f, w), (1, Wire::Varint) | (2, Wire::Len(_)))) {
        "tf-savedmodel"
    } else if all(&|f, w| f == 1 && matches!(w, Wire::Len(_))) && len > 16 {
        "keras-metadata"
    } else if has(7) && all(&|f, w| matches!((f, w), (1..=6, Wire::Varint) | (7, Wire::Len(_)))) {
        return Ok(Some("tf-fingerprint"));
    } else {
        return Ok(None);
    };
    r.seek(SeekFrom::Start(0))?;
    let mut inp = Input::seekable(r, 0, len);
    let mut pb = Pb {
        inp: &mut inp,
        fields: 0,
        max_fields: ctx.limits.max_items,
        max_string: ctx.limits.max_string,
    };
    match kind {
        "onnx" => onnx::scan(&mut pb, len, member, ctx)?,
        "tf-savedmodel" => savedmodel::scan(&mut pb, len, member, ctx)?,
        _ => {
            if !savedmodel::scan_keras_metadata(&mut pb, len, member, ctx)? {
                return Ok(None);
            }
        }
    }
    Ok(Some(kind))
}
