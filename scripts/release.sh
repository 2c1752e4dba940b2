#!/usr/bin/env bash
# Release build: reproducible Linux binaries, the wheel, the container image, a CycloneDX SBOM
# per artifact, SLSA provenance for the build, every file signed keylessly with Hallmark itself.
#
#   SIGSTORE_ID_TOKEN=<jwt> scripts/release.sh --trust-config TC.json --out DIR [--check-reproducible]
#     [--verify-only]   build only the verify-only CLI (quicker; the signing steps then need
#                       HALLMARK_SIGNER=path/to/a full hallmark)
#
# Produces in DIR: hallmark-<ver>-<arch>-linux (full CLI), hallmark-verify-<ver>-<arch>-linux
# (verify-only CLI) for x86_64 and aarch64, hallmark-<ver>-cp310-abi3-manylinux_*.whl,
# hallmark-image-<ver>.tar (when docker works), <artifact>.cdx.json (SBOM), provenance.json (SLSA
# provenance v1, DSSE bundle), SHA256SUMS, and <file>.sig for every file (OMS bundle, keyless
# against TC). Verify with
#   hallmark verify sigstore DIR/<file> --signature DIR/<file>.sig --trust-config TC.json \
#     --identity <signer> --identity-provider <issuer>
# aarch64 is cross-compiled (`rustup target add aarch64-unknown-linux-gnu`, Debian's
# gcc-aarch64-linux-gnu for the linker and the C code of aws-lc and SQLite) and smoke-tested under
# qemu-aarch64 when it is installed; without the target or the cross compiler it is skipped, and
# said. HALLMARK_RELEASE_ARCHES="x86_64" builds only one.
#
# Reproducibility (--check-reproducible builds the binaries a second time in another directory
# and compares bytes): Cargo.lock + --locked, the toolchain pinned by the caller (rustc -V is
# recorded in the provenance), SOURCE_DATE_EPOCH = the commit time, --remap-path-prefix for the
# checkout, CARGO_HOME and the toolchain (trim-paths is unstable), codegen-units=1 (the
# workspace's release profile), a fixed target dir name inside the build root.
set -euo pipefail
# The shipped profile is the workspace's: drop the faster-build overrides .ci/run exports.
unset CARGO_PROFILE_RELEASE_LTO CARGO_PROFILE_RELEASE_CODEGEN_UNITS
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TC=""; OUT=""; CHECK=0; VERIFY_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --trust-config) TC=$(realpath "$2"); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --check-reproducible) CHECK=1; shift ;;
    --verify-only) VERIFY_ONLY=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$TC" ] && [ -n "$OUT" ] || { echo "usage: release.sh --trust-config TC.json --out DIR [--check-reproducible]" >&2; exit 2; }
: "${SIGSTORE_ID_TOKEN:?set SIGSTORE_ID_TOKEN to the OIDC token of the release signer}"
mkdir -p "$OUT"; OUT=$(realpath "$OUT")
cd "$ROOT"
COMMIT=$(git rev-parse HEAD)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
SYSROOT=$(rustc --print sysroot)
BUILD_ROOT=${HALLMARK_RELEASE_BUILD:-$HOME/.cache/hallmark-release-build}
TOOLS=${HALLMARK_PY_TOOLS:-$HOME/.cache/hallmark-maturin-venv}

# build SRC_COPY: a clean export of the commit (git archive: no untracked files, fixed mtimes)
# built with a target dir inside it, paths remapped, so the location does not leak in.
build() {
  local dir=$1
  rm -rf "$dir/src"; mkdir -p "$dir/src"
  git archive --format=tar "$COMMIT" | tar -x -C "$dir/src"
  # the export has no .git: name the commit in `hallmark --version` explicitly
  HALLMARK_GIT_COMMIT=$(git rev-parse "$COMMIT^{commit}")
  export HALLMARK_GIT_COMMIT
  (
    cd "$dir/src"
    export CARGO_TARGET_DIR="$dir/target"
    export RUSTFLAGS="--remap-path-prefix=$dir/src=/hallmark --remap-path-prefix=$CARGO_HOME=/cargo --remap-path-prefix=$SYSROOT=/rust -C strip=debuginfo"
    for arch in $ARCHES; do
      local triple=$arch-unknown-linux-gnu out=$dir/target/$arch-unknown-linux-gnu/release/hallmark
      cargo build --release --locked --target "$triple" -p hallmark-cli --no-default-features --features verify
      cp "$out" "$dir/hallmark-verify-$arch"
      if [ "$VERIFY_ONLY" = 0 ]; then
        cargo build --release --locked --target "$triple" -p hallmark-cli
        cp "$out" "$dir/hallmark-$arch"
      fi
    done
  )
}

# Which architectures: x86_64 always; aarch64 when its Rust target and cross compiler are here.
ARCHES=${HALLMARK_RELEASE_ARCHES:-x86_64 aarch64}
case " $ARCHES " in *" aarch64 "*)
  if ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu \
      || ! command -v aarch64-linux-gnu-gcc >/dev/null; then
    echo "aarch64 skipped: needs \`rustup target add aarch64-unknown-linux-gnu\` and gcc-aarch64-linux-gnu" >&2
    ARCHES=x86_64
  fi ;;
esac
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar

echo "== build $COMMIT (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH) in $BUILD_ROOT/a"
build "$BUILD_ROOT/a"
BUILT=()
for arch in $ARCHES; do
  cp "$BUILD_ROOT/a/hallmark-verify-$arch" "$OUT/hallmark-verify-$VERSION-$arch-linux"; BUILT+=("hallmark-verify-$arch")
  if [ "$VERIFY_ONLY" = 0 ]; then
    cp "$BUILD_ROOT/a/hallmark-$arch" "$OUT/hallmark-$VERSION-$arch-linux"; BUILT+=("hallmark-$arch")
  fi
done
BIN="$OUT/hallmark-$VERSION-x86_64-linux"
VBIN="$OUT/hallmark-verify-$VERSION-x86_64-linux"
if [ "$VERIFY_ONLY" = 0 ]; then SIGNER=${HALLMARK_SIGNER:-$BIN}
else BIN=$VBIN; SIGNER=${HALLMARK_SIGNER:?--verify-only: set HALLMARK_SIGNER to a full hallmark binary}; fi

# The cross-built binaries run: a key sign + verify round trip under qemu when it is installed.
if [ -f "$OUT/hallmark-verify-$VERSION-aarch64-linux" ] && command -v qemu-aarch64 >/dev/null; then
  smoke=$(mktemp -d); mkdir "$smoke/model"; echo weights > "$smoke/model/w.bin"
  openssl ecparam -name prime256v1 -genkey -noout -out "$smoke/k.pem" 2>/dev/null
  openssl ec -in "$smoke/k.pem" -pubout -out "$smoke/k.pub" 2>/dev/null
  "$SIGNER" sign key "$smoke/model" --private-key "$smoke/k.pem" --signature "$smoke/m.sig" >/dev/null
  for f in "$OUT"/hallmark-*aarch64-linux; do
    qemu-aarch64 -L /usr/aarch64-linux-gnu "$f" verify key "$smoke/model" --public-key "$smoke/k.pub" \
      --signature "$smoke/m.sig" >/dev/null && echo "aarch64 smoke (qemu): $(basename "$f") verifies"
  done
  rm -rf "$smoke"
fi

if [ "$CHECK" = 1 ]; then
  echo "== second build in $BUILD_ROOT/b (reproducibility)"
  build "$BUILD_ROOT/b"
  for f in "${BUILT[@]}"; do
    if cmp "$BUILD_ROOT/a/$f" "$BUILD_ROOT/b/$f"; then echo "reproducible: $f $(sha256sum < "$BUILD_ROOT/a/$f" | cut -c1-16)…"
    else echo "NOT reproducible: $f" >&2; exit 1; fi
  done
fi

echo "== wheel"
if ! "$TOOLS/bin/maturin" --version >/dev/null 2>&1; then
  python3 -m venv "$TOOLS"; "$TOOLS/bin/pip" install -q 'maturin>=1.5,<2'
fi
(
  cd "$BUILD_ROOT/a/src/python"
  mkdir -p hallmark/bin && cp "$BIN" hallmark/bin/hallmark
  CARGO_TARGET_DIR="$BUILD_ROOT/a/target" \
  RUSTFLAGS="--remap-path-prefix=$BUILD_ROOT/a/src=/hallmark --remap-path-prefix=$CARGO_HOME=/cargo --remap-path-prefix=$SYSROOT=/rust -C strip=debuginfo" \
    "$TOOLS/bin/maturin" build --release --locked --quiet -o "$OUT"
)
WHEEL=$(ls "$OUT"/hallmark-*.whl)

echo "== container image (deploy/Dockerfile)"
IMAGE=""
if [ "$VERIFY_ONLY" = 1 ]; then
  echo "--verify-only: no image (the image runs the hub: it needs the full binary)"
elif docker info >/dev/null 2>&1; then
  # the release target copies the binary built above (context: the release directory)
  docker build --build-arg SOURCE_DATE_EPOCH --build-arg "VERSION=$VERSION" \
      --build-arg "HALLMARK_SHA256=$(sha256sum < "$BIN" | cut -d' ' -f1)" \
      -f deploy/Dockerfile --target release -t "hallmark:$VERSION" "$OUT" \
    && docker save "hallmark:$VERSION" -o "$OUT/hallmark-image-$VERSION.tar" && IMAGE="$OUT/hallmark-image-$VERSION.tar"
else
  echo "docker daemon not available: image not built (deploy/Dockerfile is the release image definition)"
fi

echo "== SBOMs (CycloneDX 1.5, Cargo.lock + crate graph)"
for arch in $ARCHES; do
  f="$OUT/hallmark-$VERSION-$arch-linux"
  [ "$VERIFY_ONLY" = 1 ] || python3 scripts/cargo-sbom.py hallmark-cli "$(basename "$f")" "$f" > "$f.cdx.json"
  f="$OUT/hallmark-verify-$VERSION-$arch-linux"
  python3 scripts/cargo-sbom.py hallmark-cli "$(basename "$f")" "$f" --no-default-features --features verify > "$f.cdx.json"
done
python3 scripts/cargo-sbom.py hallmark-python "$(basename "$WHEEL")" "$WHEEL" > "$WHEEL.cdx.json"
[ -z "$IMAGE" ] || python3 scripts/cargo-sbom.py hallmark-cli "$(basename "$IMAGE")" "$IMAGE" > "$IMAGE.cdx.json"

(cd "$OUT" && sha256sum $(ls | grep -v -e '\.sig$' -e '^provenance.json$' -e '^SHA256SUMS$') > SHA256SUMS)

echo "== provenance (SLSA v1, DSSE, keyless)"
"$SIGNER" attest train --model "$OUT" --code "$(git remote get-url origin 2>/dev/null || echo hallmark)@$COMMIT" \
  --entry-point scripts/release.sh --builder-id "https://example.invalid/hallmark/builders/release-sh/v1" \
  --param "rustc=$(rustc -V)" --param "cargo_lock_sha256=$(sha256sum < Cargo.lock | cut -d' ' -f1)" \
  --param "source_date_epoch=$SOURCE_DATE_EPOCH" --param "rustflags=remap-path-prefix,strip=debuginfo" \
  --started-on "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)" \
  --trust-config "$TC" -o "$OUT/provenance.json.tmp"
mv "$OUT/provenance.json.tmp" "$OUT/provenance.json"

echo "== sign every file (hallmark sign sigstore, keyless against $TC)"
for f in "$OUT"/*; do
  case "$f" in *.sig) continue ;; esac
  "$SIGNER" sign sigstore "$f" --signature "$f.sig" --trust-config "$TC" --quiet >/dev/null
done
ls -l "$OUT"
