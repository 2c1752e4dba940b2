"""``hashing.Config``: how a model is hashed (mirrors ``model_signing.hashing``)."""

import os
import pathlib
import sys
from typing import Iterable, Literal, Optional, Union

from hallmark import _native
from hallmark.model_signing import manifest

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover
    from typing_extensions import Self

PathLike = Union[str, bytes, os.PathLike]

_ALGORITHMS = ("sha256", "blake2", "blake3")


def _path(p: PathLike) -> pathlib.Path:
    return pathlib.Path(os.fsdecode(p))


def hash(model_path: PathLike) -> manifest.Manifest:
    """Hashes a model with the default configuration (files, SHA-256)."""
    return Config().hash(model_path)


class Config:
    """Serialization (files or shards), hash algorithm, ignored paths, symlinks.

    By default: one digest per file, SHA-256, git files (``.git``,
    ``.gitattributes``, ``.github``, ``.gitignore``) ignored, symlinks refused.
    """

    def __init__(self):
        self._ignored_paths: frozenset = frozenset()
        self._serializer_ignore_paths: frozenset = frozenset()
        self._ignore_git_paths = True
        self._allow_symlinks = False
        self.use_file_serialization()

    def _options(self) -> dict:
        # Relative paths are relative to the model directory (resolved in Rust); paths
        # outside the model are dropped, as the reference does.
        paths = [str(p) for p in self._ignored_paths]
        paths += [str(_path(p)) for p in self._serializer_ignore_paths]
        return {
            "method": self._method,
            "hashing_algorithm": self._hashing_algorithm,
            "shard_size": int(self._shard_size),
            "allow_symlinks": bool(self._allow_symlinks),
            "ignore_paths": paths,
            "ignore_git_paths": bool(self._ignore_git_paths),
            "max_workers": self._max_workers,
        }

    def hash(
        self,
        model_path: PathLike,
        *,
        files_to_hash: Optional[Iterable[PathLike]] = None,
    ) -> manifest.Manifest:
        """Hashes a model using the current configuration (GIL released)."""
        if files_to_hash is not None:
            raise NotImplementedError("files_to_hash: use verifying.Config().set_ignore_unsigned_files")
        name, method, resources = _native.hash(_path(model_path), self._options())
        return manifest.Manifest(
            name,
            method,
            [
                manifest.ResourceDescriptor(r, manifest.Digest(alg, bytes.fromhex(d)))
                for r, alg, d in resources
            ],
        )

    def _set(self, method, hashing_algorithm, chunk_size, shard_size, max_workers, allow_symlinks, ignore_paths):
        if hashing_algorithm not in _ALGORITHMS:
            raise ValueError(f"Unsupported hashing method {hashing_algorithm}")
        if shard_size <= 0 or int(shard_size) != shard_size:
            raise ValueError(f"shard_size must be a positive integer, got {shard_size}")
        self._method = method
        self._hashing_algorithm = hashing_algorithm
        self._chunk_size = chunk_size
        self._shard_size = int(shard_size)
        self._max_workers = max_workers
        self._allow_symlinks = allow_symlinks
        self._serializer_ignore_paths = frozenset(ignore_paths)
        return self

    def use_file_serialization(
        self,
        *,
        hashing_algorithm: Literal["sha256", "blake2", "blake3"] = "sha256",
        chunk_size: int = 1048576,
        max_workers: Optional[int] = None,
        allow_symlinks: bool = False,
        ignore_paths: Iterable[pathlib.Path] = frozenset(),
    ) -> Self:
        """One digest per file. ``chunk_size`` is accepted and ignored (the engine
        reads in its own block size); ``max_workers`` bounds the hashing threads."""
        return self._set("files", hashing_algorithm, chunk_size, 1_000_000_000, max_workers, allow_symlinks, ignore_paths)

    def use_shard_serialization(
        self,
        *,
        hashing_algorithm: Literal["sha256", "blake2", "blake3"] = "sha256",
        chunk_size: int = 1048576,
        shard_size: int = 1_000_000_000,
        max_workers: Optional[int] = None,
        allow_symlinks: bool = False,
        ignore_paths: Iterable[pathlib.Path] = frozenset(),
    ) -> Self:
        """One digest per ``shard_size`` bytes of each file (BLAKE3: per file, as the
        reference does)."""
        if hashing_algorithm == "blake3":
            return self.use_file_serialization(
                hashing_algorithm=hashing_algorithm,
                chunk_size=chunk_size,
                max_workers=max_workers,
                allow_symlinks=allow_symlinks,
                ignore_paths=ignore_paths,
            )
        return self._set("shards", hashing_algorithm, chunk_size, shard_size, max_workers, allow_symlinks, ignore_paths)

    def set_ignored_paths(self, *, paths: Iterable[PathLike], ignore_git_paths: bool = True) -> Self:
        """Paths to leave out, relative to the model directory."""
        self._ignored_paths = frozenset(_path(p) for p in paths)
        self._ignore_git_paths = ignore_git_paths
        return self

    def add_ignored_paths(self, *, model_path: PathLike, paths: Iterable[PathLike]) -> None:
        """Adds paths (relative to the model directory) to the ignored set."""
        self._ignored_paths = frozenset(set(self._ignored_paths) | {_path(p) for p in paths})

    def set_allow_symlinks(self, allow_symlinks: bool) -> Self:
        """Whether symlinks to files are followed (refused by default)."""
        self._allow_symlinks = allow_symlinks
        return self
