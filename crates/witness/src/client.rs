//! The log's side of C2SP tlog-witness: one `add-checkpoint` call.

use hallmark_tlog::Hash;

use crate::cosig::CosignatureLine;
use crate::error::AddCheckpointError;
use crate::wire::{AddCheckpointRequest, parse_size};

/// Largest answer read from a witness (a few signature lines; ML-DSA lines are ~3.3 KB).
pub const MAX_ANSWER_BYTES: u64 = 64 * 1024;
/// Longest error detail kept from a refusal.
const MAX_DETAIL: usize = 512;

/// `POST {submission_prefix}/add-checkpoint` with `old_size`, `proof` (from `old_size` to
/// the checkpoint's size) and the signed checkpoint note; returns the cosignature/v1
/// lines of the answer (lines of other formats, e.g. ML-DSA, are skipped). The lines are
/// not verified here: a log that knows the witness's key checks them with
/// [`crate::CosignerKey::verify`] before publishing them.
///
/// `agent` carries the timeouts and TLS roots; it need not set `http_status_as_error`.
///
/// # Errors
/// [`AddCheckpointError::Conflict`] with the size the witness knows on 409 (resend from it),
/// one variant per other refusal status, `Unreachable`, or `Malformed` answers.
pub fn add_checkpoint(
    agent: &ureq::Agent,
    submission_prefix: &str,
    old_size: u64,
    proof: &[Hash],
    checkpoint: &str,
) -> Result<Vec<CosignatureLine>, AddCheckpointError> {
    let url = format!("{}/add-checkpoint", submission_prefix.trim_end_matches('/'));
    let body = AddCheckpointRequest {
        old_size,
        proof: proof.to_vec(),
        checkpoint: checkpoint.to_owned(),
    }
    .encode();
    let mut resp = agent
        .post(&url)
        .config()
        .http_status_as_error(false)
        .build()
        .header("Content-Type", "text/plain; charset=utf-8")
        .send(body.as_bytes())
        .map_err(|e| AddCheckpointError::Unreachable(format!("{url}: {e}")))?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_string()
        .map_err(|e| AddCheckpointError::Unreachable(format!("{url}: reading the answer: {e}")))?;
    answer(status, &text)
}

/// Classifies a witness's answer (status and body).
///
/// # Errors
/// As [`add_checkpoint`].
pub fn answer(status: u16, text: &str) -> Result<Vec<CosignatureLine>, AddCheckpointError> {
    let detail = || {
        let t = text.trim_end();
        let mut end = t.len().min(MAX_DETAIL);
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        t[..end].to_owned()
    };
    match status {
        200 => {
            let lines: Vec<CosignatureLine> = text
                .lines()
                .filter_map(|l| CosignatureLine::parse(l).ok())
                .collect();
            if lines.is_empty() {
                return Err(AddCheckpointError::Malformed(format!(
                    "200 without a cosignature/v1 line: {:?}",
                    detail()
                )));
            }
            Ok(lines)
        }
        409 => text
            .strip_suffix('\n')
            .and_then(parse_size)
            .map(|known_size| Err(AddCheckpointError::Conflict { known_size }))
            .unwrap_or_else(|| {
                Err(AddCheckpointError::Malformed(format!(
                    "409 whose body is not a tree size: {:?}",
                    detail()
                )))
            }),
        400 => Err(AddCheckpointError::BadRequest(detail())),
        403 => Err(AddCheckpointError::Forbidden(detail())),
        404 => Err(AddCheckpointError::UnknownLog(detail())),
        422 => Err(AddCheckpointError::Inconsistent(detail())),
        s => Err(AddCheckpointError::Status {
            status: s,
            detail: detail(),
        }),
    }
}
