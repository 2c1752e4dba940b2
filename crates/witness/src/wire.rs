//! The add-checkpoint request body (C2SP tlog-witness v1.0.0): `old N\n`, 0–63 base64
//! consistency-proof lines, an empty line, the signed checkpoint note.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hallmark_tlog::Hash;
use hallmark_tlog::note::MAX_NOTE_BYTES;

use crate::error::Refusal;

/// Most consistency-proof lines a request may carry (the spec's limit, = tree height).
pub const MAX_PROOF_LINES: usize = 63;
/// Largest request body accepted: the old line, 63 proof lines, the largest note.
pub const MAX_REQUEST_BYTES: usize = 32 + MAX_PROOF_LINES * 45 + 1 + MAX_NOTE_BYTES;

/// A parsed add-checkpoint request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// The size the client believes the witness last cosigned.
    pub old_size: u64,
    /// Consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, as sent.
    pub checkpoint: String,
}

impl AddCheckpointRequest {
    /// The request body.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = format!("old {}\n", self.old_size);
        for h in &self.proof {
            out.push_str(&B64.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Parses a body; the checkpoint note is only split off here, not verified.
    ///
    /// # Errors
    /// [`Refusal::TooLarge`], [`Refusal::ProofTooLong`] or [`Refusal::Malformed`].
    pub fn parse(body: &[u8]) -> Result<Self, Refusal> {
        if body.len() > MAX_REQUEST_BYTES {
            return Err(Refusal::TooLarge {
                limit: MAX_REQUEST_BYTES,
            });
        }
        let bad = |m: &str| Refusal::Malformed(m.to_owned());
        let text = std::str::from_utf8(body).map_err(|_| bad("body is not UTF-8"))?;
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .ok_or_else(|| bad("first line is not `old <size>`"))?;
        let old_size = parse_size(old).ok_or_else(|| bad("old size is not a canonical decimal"))?;
        let mut proof = Vec::new();
        for l in lines {
            if proof.len() == MAX_PROOF_LINES {
                return Err(Refusal::ProofTooLong {
                    lines: head.split('\n').count() - 1,
                    limit: MAX_PROOF_LINES,
                });
            }
            let h: Hash = B64
                .decode(l)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| bad("a consistency proof line is not 32 bytes of base64"))?;
            proof.push(h);
        }
        Ok(Self {
            old_size,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }
}

/// A decimal tree size with no leading zeros (`0` alone allowed).
#[must_use]
pub fn parse_size(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let r = AddCheckpointRequest {
            old_size: 5,
            proof: vec![[1; 32], [2; 32]],
            checkpoint: "o\n9\nAAAA\n\n\u{2014} k AAAA\n".into(),
        };
        assert_eq!(
            AddCheckpointRequest::parse(r.encode().as_bytes()).unwrap(),
            r
        );
        for bad in ["old 05\n\nx", "old 1\nAAAA\n\nx", "new 1\n\nx", "old 1\n"] {
            assert!(matches!(
                AddCheckpointRequest::parse(bad.as_bytes()),
                Err(Refusal::Malformed(_))
            ));
        }
        let long = AddCheckpointRequest {
            proof: vec![[0; 32]; 64],
            ..r
        };
        assert_eq!(
            AddCheckpointRequest::parse(long.encode().as_bytes()),
            Err(Refusal::ProofTooLong {
                lines: 64,
                limit: 63
            })
        );
        let huge = vec![b'a'; MAX_REQUEST_BYTES + 1];
        assert_eq!(
            AddCheckpointRequest::parse(&huge).unwrap_err().status(),
            413
        );
    }
}
