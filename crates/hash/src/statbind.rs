//! Binding a stat cache to the signature signed alongside it, without parsing that
//! signature (issue 21): the statement is written again from the cache's own entries
//! and frame ([`hallmark_format::statement::write_statement_pulling`], the writer every
//! hallmark signature's statement comes from) and compared, byte for byte as both are
//! streamed, with the DSSE payload of the signature file (its base64 decoded as it is
//! read). Equal bytes mean the signature's manifest is exactly the cache's entries: a
//! digest the cache records is then one the signature records. Any difference (a cache
//! whose digests were edited, a signature swapped or written by another producer, a
//! bundle this scan does not understand) answers false and the caller compares the
//! cache with the parsed manifest instead. Memory stays at a few buffers whatever
//! the model's size.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_format::statement::{Emit, write_statement_pulling};
use hallmark_format::{
    HashAlgorithm, Resource, Serialization, SerializationParams, resource_algorithm,
};

use crate::shared::unit_ranges;
use crate::statcache::StatCache;
use crate::statfile::{Frame, Reader, StatCacheError};

impl StatCache {
    /// Whether the signature file `signature` holds the statement signed alongside the
    /// open cache (written again from the cache and compared as a stream: see the module
    /// notes). On true the cache's digests are the signature's and no manifest need be
    /// given; on false (no cache, a cache written by `verify`, any difference) give the
    /// parsed manifest to [`Self::expect_resources`].
    pub fn bind(&mut self, signature: &Path) -> bool {
        let (method, hash) = (self.method(), self.hash());
        let inputs = self.inputs_mut();
        let Some(reader) = inputs.reader.as_mut() else {
            return false;
        };
        let frame = reader.frame();
        let bound = match &frame {
            Ok(Some(frame)) => reader
                .rewind()
                .ok()
                .and_then(|()| bound(reader, frame, method, hash, signature)),
            _ => None,
        };
        if reader.rewind().is_err() {
            inputs.reader = None;
            return false;
        }
        inputs.bound = bound;
        bound.is_some()
    }
}

/// Whether the statement in the signature file `signature` is the one the cache read
/// by `reader` (at its first entry) and its `frame` make; on true, also the SHA-256 of
/// the entries read ([`Reader::finish`]), which a later pass over the same reader
/// must find again.
fn bound(
    reader: &mut Reader,
    frame: &Frame,
    method: Serialization,
    hash: HashAlgorithm,
    signature: &Path,
) -> Option<[u8; 32]> {
    let file = File::open(signature).ok()?;
    let mut payload = Payload::open(BufReader::with_capacity(64 << 10, file)).ok()?;
    let params = SerializationParams {
        method,
        hash,
        allow_symlinks: frame.allow_symlinks,
        ignore_paths: frame.ignore_paths.clone(),
    };
    let algorithm = resource_algorithm(method, hash);
    let mut failed: Option<StatCacheError> = None;
    let mut each = |emit: &mut Emit<'_>| {
        loop {
            match reader.advance() {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    failed = Some(e);
                    return;
                }
            }
            let (digests, count) = reader.digests();
            let units = unit_ranges(reader.key().size, method).unwrap_or_default();
            if units.len() != count {
                failed = Some(StatCacheError::Malformed {
                    entry: 0,
                    reason: "digests do not match the size",
                });
                return;
            }
            // No digest: an empty file under `shards` has no unit.
            let Some(len) = digests.len().checked_div(count) else {
                continue;
            };
            for (unit, digest) in units.iter().zip(digests.chunks_exact(len)) {
                let r = Resource {
                    path: reader.name(),
                    range: match method {
                        Serialization::Files => None,
                        Serialization::Shards { .. } => Some(*unit),
                    },
                    algorithm: &algorithm,
                    digest,
                };
                if !emit(r) {
                    return;
                }
            }
        }
    };
    let mut same = Same {
        payload: &mut payload,
        scratch: Vec::new(),
        differs: false,
    };
    let mut out = io::BufWriter::with_capacity(64 << 10, &mut same);
    // The buffer is flushed here, not on drop (which would swallow a difference).
    let written = write_statement_pulling(
        &frame.model_name,
        &params,
        &frame.root_digest,
        &mut each,
        &mut out,
    )
    .and_then(|()| out.flush());
    drop(out);
    if written.is_err() || same.differs || failed.is_some() || !payload.at_end().unwrap_or(false) {
        return None;
    }
    reader.finish().ok()
}

/// A writer that compares what it is given with the bytes `payload` reads next,
/// failing at the first difference.
struct Same<'a, R: BufRead> {
    payload: &'a mut Payload<R>,
    scratch: Vec<u8>,
    /// A difference was seen (sticky, whatever the caller does with the error).
    differs: bool,
}

impl<R: BufRead> Write for Same<'_, R> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.scratch.resize(buf.len(), 0);
        let read = self.payload.read_exact(&mut self.scratch);
        if self.differs || read.is_err() || self.scratch != buf {
            self.differs = true;
            return Err(io::Error::other("statement differs"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The decoded bytes of the one `"payload"` string of a bundle's JSON, read as a stream.
struct Payload<R: BufRead> {
    r: R,
    /// Base64 text read but not yet decoded (fewer than 4 characters between reads).
    text: Vec<u8>,
    /// Decoded bytes not yet handed out, from `at`.
    out: Vec<u8>,
    at: usize,
    /// The closing quote was read.
    closed: bool,
}

const KEY: &[u8] = b"\"payload\"";

impl<R: BufRead> Payload<R> {
    /// Positions `r` at the first character of the payload string.
    fn open(mut r: R) -> io::Result<Self> {
        if !skip_past(&mut r, KEY)? {
            return Err(io::Error::other("no payload"));
        }
        for want in [b':', b'"'] {
            loop {
                let b = next_byte(&mut r)?;
                if b == want {
                    break;
                }
                if !b.is_ascii_whitespace() {
                    return Err(io::Error::other("not a payload string"));
                }
            }
        }
        Ok(Self {
            r,
            text: Vec::new(),
            out: Vec::new(),
            at: 0,
            closed: false,
        })
    }

    /// Decodes the next run of the string into `out`; false at its end.
    fn refill(&mut self) -> io::Result<bool> {
        while !self.closed && self.at == self.out.len() {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let (take, closed) = match buf.iter().position(|&b| b == b'"') {
                Some(i) => (i, true),
                None => (buf.len(), false),
            };
            if buf.get(..take).is_some_and(|b| b.contains(&b'\\')) {
                return Err(io::Error::other("escaped payload"));
            }
            self.text
                .extend_from_slice(buf.get(..take).unwrap_or_default());
            self.r.consume(take + usize::from(closed));
            self.closed = closed;
            let whole = if closed {
                self.text.len()
            } else {
                self.text.len() / 4 * 4
            };
            self.out.clear();
            self.at = 0;
            STANDARD
                .decode_vec(self.text.get(..whole).unwrap_or_default(), &mut self.out)
                .map_err(io::Error::other)?;
            self.text.drain(..whole);
        }
        Ok(self.at < self.out.len())
    }

    /// Whether the payload is fully read and no other `"payload"` key follows it.
    fn at_end(&mut self) -> io::Result<bool> {
        Ok(!self.refill()? && !skip_past(&mut self.r, KEY)?)
    }
}

impl<R: BufRead> Read for Payload<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.refill()? {
            return Ok(0);
        }
        let have = self.out.get(self.at..).unwrap_or_default();
        let n = have.len().min(buf.len());
        buf.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(have.get(..n).unwrap_or_default());
        self.at += n;
        Ok(n)
    }
}

fn next_byte(r: &mut impl BufRead) -> io::Result<u8> {
    let b = *r
        .fill_buf()?
        .first()
        .ok_or(io::Error::from(io::ErrorKind::UnexpectedEof))?;
    r.consume(1);
    Ok(b)
}

/// Reads past the next occurrence of `needle` (whose first byte occurs in it only
/// there and maybe last); false when there is none.
fn skip_past(r: &mut impl BufRead, needle: &[u8]) -> io::Result<bool> {
    let mut matched = 0;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        let mut used = buf.len();
        for (i, &b) in buf.iter().enumerate() {
            if needle.get(matched) == Some(&b) {
                matched += 1;
            } else {
                matched = usize::from(needle.first() == Some(&b));
            }
            if matched == needle.len() {
                used = i + 1;
                break;
            }
        }
        r.consume(used);
        if matched == needle.len() {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(json: &str, chunk: usize) -> io::Result<(Vec<u8>, bool)> {
        let mut p = Payload::open(BufReader::with_capacity(chunk, json.as_bytes()))?;
        let mut out = Vec::new();
        p.read_to_end(&mut out)?;
        Ok((out, p.at_end()?))
    }

    #[test]
    fn the_payload_is_decoded_across_buffer_boundaries_and_must_be_the_only_one() {
        let text = "statement bytes, long enough to cross many small buffers";
        let b64 = STANDARD.encode(text);
        let json =
            format!("{{\"dsseEnvelope\": {{\"payload\" : \"{b64}\", \"payloadType\": \"x\"}}}}");
        for chunk in [1, 3, 7, 64, 4096] {
            assert_eq!(
                decoded(&json, chunk).unwrap(),
                (text.as_bytes().to_vec(), true)
            );
        }
        let two = format!("{json}{{\"payload\":\"\"}}");
        assert!(!decoded(&two, 5).unwrap().1);
        assert!(decoded("{\"payloadType\": \"a\"}", 4).is_err());
        let escaped = json.replacen(&b64[..2], &format!("{}\\/", &b64[..1]), 1);
        assert!(decoded(&escaped, 16).is_err());
    }
}
