"""What ``hashing.Config().hash(model)`` returns (a subset of the reference's
``model_signing.manifest``: the model name, the serialization and the digests)."""

from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True)
class Digest:
    """A digest: the algorithm name and the raw bytes."""

    algorithm: str
    digest_value: bytes

    @property
    def digest_hex(self) -> str:
        return self.digest_value.hex()

    @property
    def digest_size(self) -> int:
        return len(self.digest_value)


@dataclass(frozen=True)
class ResourceDescriptor:
    """One file (``path``) or shard (``path:start:end``) and its digest."""

    identifier: str
    digest: Digest


class Manifest:
    """The hashed model, resources in the order the signature lists them."""

    def __init__(self, model_name: str, method: str, resources: list[ResourceDescriptor]):
        self.model_name = model_name
        self.method = method
        self._resources = list(resources)

    def resource_descriptors(self) -> Iterator[ResourceDescriptor]:
        yield from self._resources

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Manifest):
            return NotImplemented
        return {r.identifier: r.digest for r in self._resources} == {
            r.identifier: r.digest for r in other._resources
        }

    def __repr__(self) -> str:
        return f"Manifest({self.model_name!r}, {len(self._resources)} resources, {self.method})"
