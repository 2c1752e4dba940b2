//! Hashing a file as its bytes arrive (a download), in the serialization a signature
//! declares: [`StreamHasher`] is fed the file's bytes in order, in chunks of any size, and
//! returns the same [`ResourceDigest`]s [`crate::hash_files`] would compute from the file
//! on disk (one per file for `files`, one per `[k·N, (k+1)·N)` shard for `shards`), so the
//! bytes never have to be read a second time.

use hallmark_format::{
    HashAlgorithm, ResourceDigest, ResourceName, Serialization, resource_algorithm,
};

use crate::error::{FoundSize, HashError};
use crate::hasher::{Blake2b, Blake3, ContentHasher, Sha256};
use crate::shared::{changed, unit_ranges};

/// One running content hash, whichever algorithm the signature uses.
enum Running {
    Sha256(Sha256),
    Blake2b(Blake2b),
    Blake3(Box<Blake3>),
}

impl Running {
    fn start(hash: HashAlgorithm) -> Result<Self, HashError> {
        match hash {
            HashAlgorithm::Sha256 => Ok(Self::Sha256(Sha256::start())),
            HashAlgorithm::Blake2b => Ok(Self::Blake2b(Blake2b::start())),
            HashAlgorithm::Blake3 => Ok(Self::Blake3(Box::new(Blake3::start()))),
            _ => Err(HashError::UnsupportedAlgorithm {
                algorithm: hash.name().to_owned(),
            }),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(data),
            Self::Blake2b(h) => h.update(data),
            Self::Blake3(h) => h.update(data),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Self::Sha256(h) => h.finish(),
            Self::Blake2b(h) => h.finish(),
            Self::Blake3(h) => (*h).finish(),
        }
    }
}

/// The digests of one file of `size` bytes, computed from its bytes in order.
pub struct StreamHasher {
    name: String,
    size: u64,
    method: Serialization,
    hash: HashAlgorithm,
    algorithm: String,
    /// Unit (whole file or shard) boundaries still to come: `(start, end)`.
    ranges: std::vec::IntoIter<(u64, u64)>,
    /// The unit being hashed and its end offset.
    current: Option<(Running, u64, u64)>,
    /// Bytes absorbed so far.
    pos: u64,
    done: Vec<ResourceDigest>,
}

impl StreamHasher {
    /// Starts hashing the file called `name` (model-relative POSIX path) that will be
    /// `size` bytes long, as `method` with `hash`.
    ///
    /// # Errors
    /// [`HashError::InvalidShardSize`] for a zero shard size,
    /// [`HashError::UnsupportedAlgorithm`] for a hash this engine does not implement.
    pub fn new(
        name: &str,
        size: u64,
        method: Serialization,
        hash: HashAlgorithm,
    ) -> Result<Self, HashError> {
        let algorithm = resource_algorithm(method, hash);
        let mut s = Self {
            name: name.to_owned(),
            size,
            method,
            hash,
            algorithm,
            ranges: unit_ranges(size, method)?.into_iter(),
            current: None,
            pos: 0,
            done: Vec::new(),
        };
        Running::start(hash)?;
        s.next_unit();
        Ok(s)
    }

    /// Bytes absorbed so far.
    #[must_use]
    pub fn position(&self) -> u64 {
        self.pos
    }

    fn next_unit(&mut self) {
        self.current = self
            .ranges
            .next()
            .and_then(|(start, end)| Some((Running::start(self.hash).ok()?, start, end)));
    }

    /// Closes the current unit: its digest joins the result.
    fn close_unit(&mut self) {
        if let Some((h, start, end)) = self.current.take() {
            let name = match self.method {
                Serialization::Files => ResourceName::File(self.name.clone()),
                Serialization::Shards { .. } => ResourceName::Shard {
                    path: self.name.clone(),
                    start,
                    end,
                },
            };
            self.done.push(ResourceDigest {
                name,
                algorithm: self.algorithm.clone(),
                digest: h.finish(),
            });
        }
        self.next_unit();
    }

    /// Absorbs the next bytes of the file.
    ///
    /// # Errors
    /// [`HashError::FileChanged`] when more than `size` bytes arrive.
    pub fn update(&mut self, mut data: &[u8]) -> Result<(), HashError> {
        let len = data.len() as u64;
        if self.pos.saturating_add(len) > self.size {
            return Err(self.wrong_size(FoundSize::MoreThan(self.size)));
        }
        while !data.is_empty() {
            let Some((h, _, end)) = self.current.as_mut() else {
                break;
            };
            let room = usize::try_from(*end - self.pos).unwrap_or(usize::MAX);
            let (now, rest) = data.split_at(room.min(data.len()));
            h.update(now);
            self.pos += now.len() as u64;
            data = rest;
            if self.pos == *end {
                self.close_unit();
            }
        }
        Ok(())
    }

    /// The file's digests in reference order (every unit, in offset order).
    ///
    /// # Errors
    /// [`HashError::FileChanged`] when fewer than `size` bytes arrived.
    pub fn finish(mut self) -> Result<Vec<ResourceDigest>, HashError> {
        if self.pos != self.size {
            return Err(self.wrong_size(FoundSize::Bytes(self.pos)));
        }
        // An empty file under `files` still has its one (empty) unit open.
        if self.current.is_some() {
            self.close_unit();
        }
        Ok(self.done)
    }

    fn wrong_size(&self, found: FoundSize) -> HashError {
        changed(std::path::Path::new(&self.name), self.size, found)
    }
}

#[cfg(test)]
mod tests {
    use super::StreamHasher;
    use crate::{EngineOptions, ModelFiles, hash_files};
    use hallmark_format::{HashAlgorithm, Serialization};

    #[test]
    fn streamed_digests_equal_the_engines_for_every_method_hash_and_chunking() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 253) as u8).collect();
        for size in [0usize, 1, 999, 1000, 1001, 10_000] {
            let name = format!("sub/f{size}");
            std::fs::create_dir_all(dir.path().join("sub")).unwrap();
            std::fs::write(dir.path().join(&name), &data[..size]).unwrap();
            let mut file = ModelFiles::new(dir.path());
            file.push(&name, size as u64, None).unwrap();
            for method in [
                Serialization::Files,
                Serialization::Shards { shard_size: 1000 },
            ] {
                for hash in HashAlgorithm::ALL {
                    let want = hash_files(&file, method, hash, &EngineOptions::default())
                        .unwrap()
                        .to_vec();
                    for chunk in [1usize, 7, 1000, 4096] {
                        let mut s = StreamHasher::new(&name, size as u64, method, hash).unwrap();
                        for c in data[..size].chunks(chunk) {
                            s.update(c).unwrap();
                        }
                        assert_eq!(s.position(), size as u64);
                        assert_eq!(
                            s.finish().unwrap(),
                            want,
                            "{size} {method:?} {hash} {chunk}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn too_few_or_too_many_bytes_is_an_error_naming_the_file() {
        let files = Serialization::Files;
        let mut s = StreamHasher::new("w.bin", 3, files, HashAlgorithm::Sha256).unwrap();
        s.update(b"ab").unwrap();
        let e = s.finish().unwrap_err().to_string();
        assert!(
            e.contains("w.bin") && e.contains('3') && e.contains('2'),
            "{e}"
        );
        let mut s = StreamHasher::new("w.bin", 3, files, HashAlgorithm::Sha256).unwrap();
        assert!(s.update(b"abcd").is_err());
    }
}
