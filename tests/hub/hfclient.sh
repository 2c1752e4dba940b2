#!/usr/bin/env bash
# The Hugging Face write API (issue 17) with the real clients: the newest huggingface_hub
# from PyPI (HfApi and the `hf` CLI, HF_HUB_DISABLE_XET=1) against `hallmark hub serve`, and
# the reference model_signing 1.1.1 verifying what the hub signed for the uploader.
#   create_repo + upload_folder (50 MiB LFS file through multipart, small regular files)
#   → a signed revision; snapshot_download → model_signing verify sigstore (offline) with the
#   hub's trust config, the uploader's identity and the hub's issuer; hf upload, upload_file,
#   delete_file, hf auth login / whoami, update_repo_settings(private=True), delete_repo; bad
#   input the client reports (wrong parent_commit, create_pr, refused paths).
# Each check prints PASS/FAIL; the calls that passed are written as README table rows to
# $HF_TABLE (default: $W/table.md, printed at the end).
#   usage: tests/hub/hfclient.sh path/to/hallmark
set -euo pipefail
HM=$(realpath "${1:?usage: hfclient.sh path/to/hallmark}")
REF_VENV=${OMS_REF_VENV:-$HOME/.cache/hallmark-oms-ref}
bash "$(dirname "$0")/../../scripts/ref-venv.sh" "$REF_VENV"
# shellcheck source=tests/hub/hfsetup.sh
source "$(dirname "$0")/hfsetup.sh"
HFCLI="$HF_VENV/bin/hf"
MS="$REF_VENV/bin/model_signing"

# --- the model: a 50 MiB LFS file, small regular files, a model card, what the hub skips ---
mkdir -p model/tokenizer
head -c 52428800 /dev/urandom > model/model.safetensors
echo '{"hidden_size": 64, "model_type": "demo"}' > model/config.json
echo '{"version": "1.0", "vocab": {"a": 1}}' > model/tokenizer/tokenizer.json
printf -- '---\nlicense: apache-2.0\ntags:\n- hallmark\n- demo\npipeline_tag: text-classification\n---\n# Demo\nSigned by the hub.\n' > model/README.md
echo '*.safetensors filter=lfs diff=lfs merge=lfs -text' > model/.gitattributes

row "create_repo" "new repo (also private=True, exist_ok=True)" "$PY" -c "
from huggingface_hub import HfApi
api = HfApi(token='$ALICE')
url = api.create_repo('acme/demo')
assert url.repo_id == 'acme/demo', url
api.create_repo('acme/demo', exist_ok=True)
try:
    api.create_repo('acme/demo')
except Exception as e:
    assert '409' in str(e), e
else:
    raise SystemExit('second create without exist_ok accepted')
assert HfApi(token='$ALICE').create_repo('acme/hidden', private=True).repo_id == 'acme/hidden'"
check "… a private repo is hidden from anonymous clients" test "$(status "$HUB/api/models/acme/hidden")" = 401

row "upload_folder" "50 MiB LFS file (multipart) + regular files → one signed revision" "$PY" - <<'PYEOF'
import json, os, urllib.request
from huggingface_hub import HfApi
api = HfApi(token=os.environ["ALICE"])
info = api.upload_folder(folder_path="model", repo_id="acme/demo", commit_message="first upload")
open("commit1.txt", "w").write(info.oid)
hub = os.environ["HUB"]
d = json.load(urllib.request.urlopen(f"{hub}/api/models/acme/demo"))
assert d["sha"] == info.oid, (d["sha"], info.oid)
s = d["hallmark"]["signature"]
assert s["status"] == "verified", s
assert s["identity"] == f"{hub}/alice" and s["issuer"] == hub, s
assert s["log_index"] is not None, s
names = {x["rfilename"] for x in d["siblings"]}
assert names == {"model.safetensors", "config.json", "tokenizer/tokenizer.json", "README.md", "model.sig"}, names
PYEOF
check "… the hub's log of signing events names the commit" "$PY" - <<'PYEOF'
import json, os, urllib.request
ev = json.load(urllib.request.urlopen(os.environ["HUB"] + "/api/audit"))
assert any(e["repo"] == "acme/demo" and e["commit"] == open("commit1.txt").read() and e["uploader"] == "alice" for e in ev), ev
PYEOF

row "snapshot_download" "the signed revision, verified by model_signing 1.1.1" "$PY" -c "
from huggingface_hub import snapshot_download
snapshot_download('acme/demo', local_dir='dl')"
check "downloaded bytes identical" cmp model/model.safetensors dl/model.safetensors
curl -s -o tc.json "$HUB/trust-config.json"
OFFLINE=(); if unshare -n true 2>/dev/null; then OFFLINE=(unshare -n); fi
KL=(--trust_config tc.json --identity "$HUB/alice" --identity_provider "$HUB")
check "model_signing verify sigstore (offline) accepts the hub's signature for alice" "${OFFLINE[@]}" "$MS" verify sigstore dl --signature dl/model.sig "${KL[@]}" --ignore-paths dl/.cache
check "… and refuses another identity" bash -c "! $MS verify sigstore dl --signature dl/model.sig --trust_config tc.json --identity $HUB/bob --identity_provider $HUB --ignore-paths dl/.cache"

echo "more weights" > extra.txt
row "hf upload" "CLI upload of one file → a new signed revision" "$HFCLI" upload acme/demo extra.txt extra.txt --token "$ALICE" --commit-message "cli upload"
row "upload_file" "bytes to a nested path → a new signed revision" "$PY" - <<'PYEOF'
import json, os, urllib.request
from huggingface_hub import HfApi
api = HfApi(token=os.environ["ALICE"])
before = api.model_info("acme/demo").sha
info = api.upload_file(path_or_fileobj=b"notes\n", path_in_repo="notes/a.txt", repo_id="acme/demo")
assert info.oid != before
d = json.load(urllib.request.urlopen(os.environ["HUB"] + "/api/models/acme/demo"))
assert d["sha"] == info.oid and d["hallmark"]["signature"]["status"] == "verified", d["hallmark"]
assert "notes/a.txt" in {x["rfilename"] for x in d["siblings"]}
PYEOF
row "delete_file" "removes a file in a new signed revision" "$PY" - <<'PYEOF'
import os
from huggingface_hub import HfApi
api = HfApi(token=os.environ["ALICE"])
api.delete_file("notes/a.txt", repo_id="acme/demo")
files = api.list_repo_files("acme/demo")
assert "notes/a.txt" not in files and "extra.txt" in files, files
PYEOF
row "delete_folder" "removes a folder in a new signed revision" "$PY" -c "
from huggingface_hub import HfApi
api = HfApi(token='$ALICE')
api.delete_folder('tokenizer', repo_id='acme/demo')
assert not any(f.startswith('tokenizer/') for f in api.list_repo_files('acme/demo'))"
row "create_commit" "parent_commit: a stale parent is refused (412), nothing committed" "$PY" - <<'PYEOF'
import os
from huggingface_hub import HfApi, CommitOperationAdd
from huggingface_hub.errors import HfHubHTTPError
api = HfApi(token=os.environ["ALICE"])
head = api.model_info("acme/demo").sha
stale = open("commit1.txt").read()
try:
    api.create_commit("acme/demo", [CommitOperationAdd("x.txt", b"x")], commit_message="stale", parent_commit=stale)
except HfHubHTTPError as e:
    assert e.response.status_code == 412, e
else:
    raise SystemExit("stale parent accepted")
assert api.model_info("acme/demo").sha == head
api.create_commit("acme/demo", [CommitOperationAdd("x.txt", b"x")], commit_message="fresh", parent_commit=head)
PYEOF
row "create_commit" "create_pr=True is refused (400): the hub has no pull requests" "$PY" - <<'PYEOF'
import os
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError
try:
    HfApi(token=os.environ["ALICE"]).upload_file(path_or_fileobj=b"x", path_in_repo="y.txt", repo_id="acme/demo", create_pr=True)
except BadRequestError as e:
    assert "pull requests are not supported" in str(e), e
else:
    raise SystemExit("create_pr accepted")
PYEOF
row "upload_file" "a path the naming rules refuse (model.sig, non-NFC) answers 422 naming it" "$PY" - <<'PYEOF'
import os, unicodedata
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
api = HfApi(token=os.environ["ALICE"])
head = api.model_info("acme/demo").sha
for p in ["model.sig", unicodedata.normalize("NFD", "naïve.txt")]:
    try:
        api.upload_file(path_or_fileobj=b"x", path_in_repo=p, repo_id="acme/demo")
    except HfHubHTTPError as e:
        assert e.response.status_code == 422 and "refused" in str(e), e
    else:
        raise SystemExit(f"{p!r} accepted")
assert api.model_info("acme/demo").sha == head
PYEOF
row "upload_file" "a reader's token is refused (403), nothing stored" "$PY" - <<'PYEOF'
import os
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
try:
    HfApi(token=os.environ["BOB_READ"]).upload_file(path_or_fileobj=b"x", path_in_repo="z.txt", repo_id="acme/demo")
except HfHubHTTPError as e:
    assert e.response.status_code == 403, e
else:
    raise SystemExit("reader upload accepted")
PYEOF
row "hf auth login" "a hub token, then hf auth whoami" bash -c "$HFCLI auth login --token $ALICE && $HFCLI auth whoami | grep -q alice"
row "whoami" "name, orgs and token role" "$PY" -c "
from huggingface_hub import HfApi
me = HfApi(token='$ALICE').whoami()
assert me['name'] == 'alice' and me['auth']['accessToken']['role'] == 'write', me
assert [o['name'] for o in me['orgs']] == ['acme'], me"
check "HF_TOKEN in the environment is used" env HF_TOKEN="$ALICE" "$PY" -c "
from huggingface_hub import HfApi
assert HfApi().whoami()['name'] == 'alice'"
row "update_repo_settings" "private=True hides the repo from anonymous clients" "$PY" - <<'PYEOF'
import os
from huggingface_hub import HfApi, snapshot_download
from huggingface_hub.errors import RepositoryNotFoundError
HfApi(token=os.environ["ALICE"]).update_repo_settings("acme/demo", private=True)
try:
    snapshot_download("acme/demo", local_dir="anon", token=False)
except RepositoryNotFoundError:
    pass
else:
    raise SystemExit("anonymous download of a private repo")
assert HfApi(token=os.environ["ALICE"]).model_info("acme/demo").private
PYEOF
check "… anonymous repo info answers 401" test "$(status "$HUB/api/models/acme/demo")" = 401
row "move_repo" "refused with 501 (signatures name the repo)" "$PY" - <<'PYEOF'
import os
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
try:
    HfApi(token=os.environ["ALICE"]).move_repo("acme/demo", "acme/renamed")
except HfHubHTTPError as e:
    assert e.response.status_code == 501, e
else:
    raise SystemExit("move accepted")
PYEOF
row "delete_repo" "owners only (a reader gets 403); missing_ok" "$PY" - <<'PYEOF'
import os
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
try:
    HfApi(token=os.environ["BOB_READ"]).delete_repo("acme/demo")
except HfHubHTTPError as e:
    assert e.response.status_code == 403, e
else:
    raise SystemExit("reader deleted the repo")
api = HfApi(token=os.environ["ALICE"])
api.delete_repo("acme/demo")
try:
    api.model_info("acme/demo")
except RepositoryNotFoundError:
    pass
else:
    raise SystemExit("repo still there")
api.delete_repo("acme/demo", missing_ok=True)
PYEOF

# Issue 16 "Done when": a pickle payload uploaded with the stock client is scanned dangerous,
# and with the org's refusal on the upload is refused (422 naming file and finding), nothing stored.
check "upload_file of a pickle payload: hallmark.scan.verdict dangerous, the finding names the file" "$PY" - <<'PYEOF'
import json, os, urllib.request
from huggingface_hub import HfApi
api = HfApi(token=os.environ["ALICE"])
api.create_repo("alice/evil")
payload = b"\x80\x02cos\nsystem\n(X\x02\x00\x00\x00idtR."
api.upload_file(path_or_fileobj=payload, path_in_repo="pytorch_model.bin", repo_id="alice/evil")
scan = json.load(urllib.request.urlopen(f"{os.environ['HUB']}/api/models/alice/evil"))["hallmark"]["scan"]
assert scan["verdict"] == "dangerous", scan
assert any(f["path"] == "pytorch_model.bin" and f["severity"] == "dangerous" for f in scan["findings"]), scan
PYEOF
check "hub admin org set acme --refuse-scan dangerous" "$HM" hub admin org set acme --refuse-scan dangerous
check "… then upload_file of the payload to acme is refused (422 naming it), nothing stored" "$PY" - <<'PYEOF'
import os
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
api = HfApi(token=os.environ["ALICE"])
api.create_repo("acme/evil")
payload = b"\x80\x02cos\nsystem\n(X\x02\x00\x00\x00idtR."
try:
    api.upload_file(path_or_fileobj=payload, path_in_repo="pytorch_model.bin", repo_id="acme/evil")
except HfHubHTTPError as e:
    assert e.response.status_code == 422 and "pytorch_model.bin" in str(e), e
else:
    raise SystemExit("dangerous upload accepted")
assert api.model_info("acme/evil").sha is None, api.model_info("acme/evil")
PYEOF

echo
echo "client calls supported (README table rows):"
cat "$TABLE"
echo
echo "hub hfclient: $pass passed, $fail failed"
[ "$fail" = 0 ]
