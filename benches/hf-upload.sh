#!/usr/bin/env bash
# Issue 17 benchmark: upload throughput of the same model through the Hugging Face client
# (huggingface_hub upload_folder, HF_HUB_DISABLE_XET=1: preupload, LFS batch, PUT/multipart,
# NDJSON commit) and through `hallmark push`, to the same hub in the same run. Both end in
# a signed revision; the model is pushed to two fresh repos so neither deduplicates.
# Prints both times and the ratio (HF client time ÷ hallmark push time; > 1: slower).
#   usage: benches/hf-upload.sh path/to/hallmark [SIZE_MIB=512] [REPS=3]
set -euo pipefail
HM=$(realpath "${1:?usage: hf-upload.sh path/to/hallmark [SIZE_MIB] [REPS]}")
MIB=${2:-512}
REPS=${3:-3}
HF_VENV=${HF_CLIENT_VENV:-$HOME/.cache/hallmark-hfclient-venv}
if ! "$HF_VENV/bin/python" -c "import huggingface_hub" 2>/dev/null; then
  python3 -m venv "$HF_VENV"
  "$HF_VENV/bin/pip" install -q --disable-pip-version-check --upgrade huggingface_hub
fi
W=$(mktemp -d)
# shellcheck source=tests/lib/hub.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../tests/lib/hub.sh"
cleanup() { hub_stop; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
cd "$W"
export HF_HUB_DISABLE_XET=1 HF_HUB_DISABLE_PROGRESS_BARS=1 HF_HUB_DISABLE_TELEMETRY=1 HF_HOME="$W/hf-home"
mkdir -p model
head -c $((MIB * 1024 * 1024)) /dev/urandom > model/model.safetensors
head -c $((MIB * 1024 * 1024 / 4)) /dev/urandom > model/extra.bin
echo '{"hidden_size": 64}' > model/config.json
hub_start data serve.log
HALLMARK_HUB_DATA=data "$HM" hub admin user add bench >/dev/null
TOK=$(HALLMARK_HUB_DATA=data "$HM" hub admin token bench --scope write 2>/dev/null)
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
best_push=""; best_hf=""
for i in $(seq "$REPS"); do
  sync
  p=$(t env HALLMARK_HUB="$HUB" "$HM" push model "bench/push$i" --token "$TOK")
  sync
  h=$(t env HF_ENDPOINT="$HUB" "$HF_VENV/bin/python" -c "
from huggingface_hub import HfApi
api = HfApi(token='$TOK')
api.create_repo('bench/hf$i')
api.upload_folder(folder_path='model', repo_id='bench/hf$i')")
  echo "rep $i: hallmark push $p s, huggingface_hub upload_folder $h s"
  if [ -z "$best_hf" ] || [ "$(echo "$h < $best_hf" | bc)" = 1 ]; then best_hf=$h; fi
  if [ -z "$best_push" ] || [ "$(echo "$p < $best_push" | bc)" = 1 ]; then best_push=$p; fi
done
for r in push1 hf1; do
  st=$(curl -s "$HUB/api/models/bench/$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hallmark"]["signature"]["status"])')
  echo "bench/$r signature: $st"
done
bytes=$((MIB * 1024 * 1024 * 5 / 4))
echo "model: $((bytes / 1048576)) MiB in 3 files; best of $REPS"
echo "hallmark push:               $best_push s ($(echo "scale=1; $bytes / 1048576 / $best_push" | bc) MiB/s)"
echo "huggingface_hub upload_folder: $best_hf s ($(echo "scale=1; $bytes / 1048576 / $best_hf" | bc) MiB/s)"
echo "ratio HF client / hallmark push: $(echo "scale=2; $best_hf / $best_push" | bc)"
