#!/usr/bin/env bash
# History, refs and model cards (issue 17) with the real client: the newest huggingface_hub
# from PyPI against `hallmark hub serve`: list_repo_commits (every commit, with the hub's
# signature status in the raw JSON), list_repo_refs, get_paths_info, create_branch /
# create_tag / delete_tag / delete_branch (and who may), hf_hub_download at a 7-character
# revision, model_info().card_data and .tags from README.md front matter, list_models tags,
# and `git clone` answered with a pointer to `hf download`.
# The calls that passed are written as README table rows to $HF_TABLE (default $W/table.md,
# printed at the end).
#   usage: tests/hub/hfrefs.sh path/to/hallmark
set -euo pipefail
HM=$(realpath "${1:?usage: hfrefs.sh path/to/hallmark}")
# shellcheck source=tests/hub/hfsetup.sh
source "$(dirname "$0")/hfsetup.sh"

mkdir -p model/w
cat > model/README.md <<'MD'
---
license: apache-2.0
tags: [vision, tiny]
base_model: acme/base
datasets: [imagenet-1k]
pipeline_tag: image-classification
library_name: timm
---
# Tiny
<script>alert(1)</script>
MD
echo '{"v": 1}' > model/config.json
head -c 100000 /dev/urandom > model/w/weights.bin
"$HM" push model acme/tiny --token "$ALICE" -m "first" >/dev/null
echo '{"v": 2}' > model/config.json
"$HM" push model acme/tiny --token "$ALICE" -m "second" >/dev/null

row list_repo_commits "every commit of a revision's history, newest first; the raw JSON adds hallmark.signature (status, identity, log index) per commit" "$PY" - <<'PYEOF'
import os
from huggingface_hub import HfApi, get_session
api = HfApi()
commits = api.list_repo_commits("acme/tiny")
assert [c.title for c in commits] == ["second", "first"], commits
assert all(c.authors == ["alice"] and len(c.commit_id) == 40 for c in commits), commits
raw = get_session().get(f"{os.environ['HUB']}/api/models/acme/tiny/commits/main").json()
assert [c["hallmark"]["signature"]["status"] for c in raw] == ["verified", "verified"], raw
assert all(c["hallmark"]["signature"]["identity"] == f"{os.environ['HUB']}/alice" for c in raw)
older = api.list_repo_commits("acme/tiny", revision=commits[1].commit_id[:7], formatted=True)
assert [c.commit_id for c in older] == [commits[1].commit_id] and older[0].formatted_title == "first"
PYEOF

row "create_tag / create_branch / list_repo_refs" "tags at any revision (short ids too), branches from a revision; 409 for an existing name (exist_ok works); refs listed with their target commits" "$PY" - <<'PYEOF'
import os
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
api = HfApi(token=os.environ["ALICE"])
commits = api.list_repo_commits("acme/tiny")
first, second = commits[1].commit_id, commits[0].commit_id
api.create_tag("acme/tiny", tag="v1.0", revision=first[:7], tag_message="first release")
api.create_tag("acme/tiny", tag="v1.0", revision="main", exist_ok=True)
try:
    api.create_tag("acme/tiny", tag="v1.0", revision="main")
    raise SystemExit("a second tag v1.0 was accepted")
except HfHubHTTPError as e:
    assert e.response.status_code == 409, e
api.create_branch("acme/tiny", branch="dev", revision="v1.0")
api.create_branch("acme/tiny", branch="dev", exist_ok=True)
refs = api.list_repo_refs("acme/tiny")
assert {(b.name, b.target_commit) for b in refs.branches} == {("main", second), ("dev", first)}, refs
assert [(t.name, t.ref, t.target_commit) for t in refs.tags] == [("v1.0", "refs/tags/v1.0", first)], refs
assert refs.converts == []
PYEOF

row "create_tag (read token, reader)" "refused with 403: only writers of the repo create or delete refs" "$PY" - <<'PYEOF'
import os
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
api = HfApi(token=os.environ["BOB_READ"])
for f in (lambda: api.create_tag("acme/tiny", tag="evil"), lambda: api.delete_tag("acme/tiny", tag="v1.0"),
          lambda: api.delete_branch("acme/tiny", branch="dev")):
    try:
        f(); raise SystemExit("accepted")
    except HfHubHTTPError as e:
        assert e.response.status_code == 403, e
PYEOF

row hf_hub_download "at a 7-character commit id and at a tag: the bytes of that revision, X-Repo-Commit the full id" "$PY" - <<'PYEOF'
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import RevisionNotFoundError
first = HfApi().list_repo_commits("acme/tiny")[1].commit_id
p = hf_hub_download("acme/tiny", "config.json", revision=first[:7])
assert open(p).read().strip() == '{"v": 1}', open(p).read()
assert first in p, p
assert open(hf_hub_download("acme/tiny", "config.json", revision="v1.0")).read().strip() == '{"v": 1}'
try:
    hf_hub_download("acme/tiny", "config.json", revision="0000000")
    raise SystemExit("unknown short id accepted")
except RevisionNotFoundError:
    pass
PYEOF

row get_paths_info "files (size, LFS sha256) and folders among the paths asked, at any revision; missing paths left out" "$PY" - <<'PYEOF'
from huggingface_hub import HfApi
from huggingface_hub.hf_api import RepoFile, RepoFolder
api = HfApi()
info = api.get_paths_info("acme/tiny", ["config.json", "w", "missing.txt"], revision="v1.0")
assert len(info) == 2, info
f, d = info
assert isinstance(f, RepoFile) and f.path == "config.json" and f.size == 9 and f.lfs.sha256, f
assert isinstance(d, RepoFolder) and d.path == "w", d
PYEOF

row "delete_tag / delete_branch" "the ref is gone (downloads at it: RevisionNotFound); main cannot be deleted" "$PY" - <<'PYEOF'
import os
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, RevisionNotFoundError
api = HfApi(token=os.environ["ALICE"])
api.delete_tag("acme/tiny", tag="v1.0")
api.delete_branch("acme/tiny", branch="dev")
refs = api.list_repo_refs("acme/tiny")
assert refs.tags == [] and [b.name for b in refs.branches] == ["main"], refs
try:
    hf_hub_download("acme/tiny", "config.json", revision="v1.0", force_download=True)
    raise SystemExit("deleted tag still resolves")
except RevisionNotFoundError:
    pass
try:
    api.delete_branch("acme/tiny", branch="main"); raise SystemExit("main deleted")
except HfHubHTTPError as e:
    assert e.response.status_code == 403, e
PYEOF

row "model_info().card_data / .tags" "README.md front matter as cardData (license, tags, base_model, datasets, pipeline_tag, library_name) and the tags derived from it" "$PY" - <<'PYEOF'
from huggingface_hub import HfApi
m = HfApi().model_info("acme/tiny")
cd = m.card_data
assert cd is not None, m
assert cd.license == "apache-2.0" and cd.base_model == "acme/base" and cd.datasets == ["imagenet-1k"], cd
assert cd.pipeline_tag == "image-classification" and cd.library_name == "timm" and cd.tags == ["vision", "tiny"], cd
assert m.pipeline_tag == "image-classification" and m.library_name == "timm"
for t in ["vision", "tiny", "timm", "license:apache-2.0", "dataset:imagenet-1k", "base_model:acme/base"]:
    assert t in m.tags, (t, m.tags)
PYEOF

row "list_models" "each model's tags from its card" "$PY" - <<'PYEOF'
from huggingface_hub import HfApi
ms = list(HfApi().list_models(search="tiny"))
assert ms and "vision" in ms[0].tags, ms
PYEOF

check "model page renders the README sanitised (no script) with tags" bash -c "curl -s '$HUB/acme/tiny' > page.html && grep -q 'id=\"model-card\"' page.html && grep -q '<h1>Tiny</h1>' page.html && ! grep -q '<script>alert' page.html && grep -q 'badge tag\">vision<' page.html"
check "git clone is answered with a pointer to hf download" bash -c "! git clone -q '$HUB/acme/tiny.git' clone 2> git.txt; cat git.txt; grep -q 'hf download acme/tiny' git.txt"

echo
echo "client calls that passed (README table rows):"
cat "$TABLE"
echo "hfrefs: $pass passed, $fail failed"
[ "$fail" = 0 ]
