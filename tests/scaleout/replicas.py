"""Load and checks for tests/scaleout/replicas.sh and benches/replicas.sh (stdlib only).

  replicas.py push  --hm HM --hubs URL,URL,... --tokens FILE --workdir W --out FILE
                    [--count N --first K | --until FILE] [--jobs 16]
      Pushes small distinct models (config.json + a 1-4 KiB weights file) with `hallmark push`
      subprocesses, JOBS at a time, round-robin over HUBS; appends one JSON line per push to
      OUT (model number, repo, user, hub, start/end time, exit code, commit, log index).
      With --until, pushes model numbers from --first on until FILE exists.

  replicas.py check --hm HM --replicas URL,URL,... --public URL --workdir W --results FILE...
                    [--db-count N] [--queue-count N] [--pull-sample N]
      Checks every acknowledged push on every replica (bytes, bundle, signature, log) and the
      log itself (tiles, checkpoint, consistency); prints PASS/FAIL lines and a summary, exits
      non-zero on any failure.
"""

import argparse
import base64
import concurrent.futures as cf
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request


# --- models and pushes -------------------------------------------------------------------

def load_tokens(path):
    users = []
    with open(path) as f:
        for line in f:
            if line.strip():
                name, tok = line.split()
                users.append((name, tok))
    return users


def model_of(i, users):
    """Model number i: owner, pushing user, repo (half in the org, half personal)."""
    user, tok = users[i % len(users)]
    repo = f"acme/m{i:05d}" if i % 2 == 0 else f"{user}/m{i:05d}"
    return user, tok, repo


def load_tokens_list(results):
    return [(u, None) for u in sorted({r["user"] for r in results})]


def write_model(workdir, i):
    d = os.path.join(workdir, "models", str(i))
    os.makedirs(d, exist_ok=True)
    rnd = random.Random(i * 7919 + 17)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"model": i, "hidden_size": rnd.randrange(8, 4096)}, f)
    with open(os.path.join(d, "weights.bin"), "wb") as f:
        f.write(i.to_bytes(8, "big") + os.urandom(rnd.randrange(1024, 4097) - 8))
    return d


PUSHED = re.compile(r"as revision ([0-9a-f]{40})")
LOGIDX = re.compile(r"log index (\d+)")


def push_one(hm, hub, workdir, i, users):
    user, tok, repo = model_of(i, users)
    d = write_model(workdir, i)
    t0 = time.time()
    p = subprocess.run([hm, "push", d, repo, "--hub", hub, "--token", tok, "-q", "--jobs", "2",
                        "-m", f"model {i}"], capture_output=True, text=True)
    t1 = time.time()
    m, li = PUSHED.search(p.stdout), LOGIDX.search(p.stdout)
    return {"i": i, "repo": repo, "user": user, "hub": hub, "t0": t0, "t1": t1,
            "rc": p.returncode, "commit": m.group(1) if m else None,
            "log_index": int(li.group(1)) if li else None,
            "err": "" if p.returncode == 0 else (p.stderr + p.stdout)[-400:]}


def cmd_push(a):
    users = load_tokens(a.tokens)
    lock = threading.Lock()
    inflight = {}

    def hubs_now():
        # --hubs, or the comma-separated list in --hubs-file, re-read for every push (the
        # kill phase routes the clients away from the replica it is about to kill).
        if a.hubs_file:
            with open(a.hubs_file) as f:
                return f.read().strip().split(",")
        return a.hubs.split(",")

    def mark(hub, d):
        # Pushes in flight per hub, for the caller (--inflight FILE, JSON, atomically replaced).
        inflight[hub] = inflight.get(hub, 0) + d
        if a.inflight:
            with open(a.inflight + ".tmp", "w") as f:
                json.dump(inflight, f)
            os.replace(a.inflight + ".tmp", a.inflight)
    counter = iter(range(a.first, a.first + a.count) if a.until is None else
                   __import__("itertools").count(a.first))
    out = open(a.out, "a")
    stats = {"ok": 0, "fail": 0}

    def worker(_):
        while True:
            if a.until is not None and os.path.exists(a.until):
                return
            with lock:
                i = next(counter, None)
                if i is None:
                    return
                hubs = hubs_now()
                hub = hubs[i % len(hubs)]
                mark(hub, 1)
            r = push_one(a.hm, hub, a.workdir, i, users)
            with lock:
                mark(hub, -1)
                out.write(json.dumps(r) + "\n")
                out.flush()
                stats["ok" if r["rc"] == 0 else "fail"] += 1
                if r["rc"] != 0 and stats["fail"] <= 5:
                    print(f"    push {i} to {r['hub']} failed: {r['err'].strip()[-300:]}",
                          file=sys.stderr)

    t0 = time.time()
    with cf.ThreadPoolExecutor(a.jobs) as ex:
        list(ex.map(worker, range(a.jobs)))
    dt = time.time() - t0
    out.close()
    import resource
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"pushed {stats['ok']} ok, {stats['fail']} failed in {dt:.2f} s "
          f"({stats['ok'] / dt:.1f} pushes/s; client processes used {ru.ru_utime + ru.ru_stime:.2f} CPU s)")
    return 0


# --- Merkle tree (RFC 6962 / RFC 9162) -----------------------------------------------------

def leaf_hash(b):
    return hashlib.sha256(b"\x00" + b).digest()


def node_hash(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def mth(leaves, lo, hi, memo):
    """Root of leaves[lo:hi] (leaf hashes), memoised on aligned subtrees."""
    n = hi - lo
    if n == 1:
        return leaves[lo]
    key = (lo, hi)
    if key in memo:
        return memo[key]
    k = 1
    while k * 2 < n:
        k *= 2
    h = node_hash(mth(leaves, lo, lo + k, memo), mth(leaves, lo + k, hi, memo))
    memo[key] = h
    return h


def verify_consistency(m, n, proof, old_root, new_root):
    """RFC 9162 §2.1.4.2."""
    if m == n:
        return not proof and old_root == new_root
    if m == 0 or m > n or not proof:
        return False
    if m & (m - 1) == 0:  # m is a power of two: the old root is the first node
        proof = [old_root] + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def tile_index(n):
    s = f"{n:03d}"
    s = "0" * (-len(s) % 3) + s
    parts = [s[k:k + 3] for k in range(0, len(s), 3)]
    return "/".join(["x" + p for p in parts[:-1]] + [parts[-1]])


def parse_note(text):
    lines = text.split("\n")
    return lines[0], int(lines[1]), base64.b64decode(lines[2])


# --- checks -------------------------------------------------------------------------------

class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, what):
        self.passed += 1
        print(f"PASS {what}", flush=True)

    def bad(self, what, detail=None):
        self.failed += 1
        print(f"FAIL {what}", flush=True)
        for d in (detail or [])[:8]:
            print(f"    {d}", flush=True)

    def expect(self, cond, what, detail=None):
        (self.ok if cond else (lambda w: self.bad(w, detail)))(what)


def get(url, tries=3):
    for k in range(tries):
        try:
            with urllib.request.urlopen(url, timeout=60) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            if e.code == 404 or k == tries - 1:
                raise
        except OSError:
            if k == tries - 1:
                raise
        time.sleep(0.5)


def cmd_check(a):
    c = Checker()
    reps = a.replicas.split(",")
    results = []
    for f in a.results:
        with open(f) as fh:
            results += [json.loads(line) for line in fh if line.strip()]
    acked = [r for r in results if r["rc"] == 0]
    failed = [r for r in results if r["rc"] != 0]
    c.expect(not failed, f"every push was acknowledged ({len(acked)} of {len(results)})",
             [f"model {r['i']} via {r['hub']}: {r['err'].strip()[-200:]}" for r in failed])
    c.expect(all(r["commit"] and r["log_index"] is not None for r in acked),
             "every acknowledgement names a commit and a log index")
    acked = [r for r in acked if r["commit"]]
    work = a.workdir

    # Trust config: one instance behind all replicas.
    tcs = [get(f"{u}/trust-config.json") for u in reps]
    c.expect(len({hashlib.sha256(t).hexdigest() for t in tcs}) == 1,
             f"/trust-config.json byte-identical on all {len(reps)} replicas")
    tc_path = os.path.join(work, "tc.json")
    with open(tc_path, "wb") as f:
        f.write(tcs[0])
    tc = json.loads(tcs[0])
    key = tc["trustedRoot"]["tlogs"][0]["publicKey"]["rawBytes"]
    pub = os.path.join(work, "log.pub")
    with open(pub, "w") as f:
        f.write("-----BEGIN PUBLIC KEY-----\n" +
                "\n".join(key[k:k + 64] for k in range(0, len(key), 64)) +
                "\n-----END PUBLIC KEY-----\n")

    # Every acknowledged push, from every replica: same bytes as pushed, same bundle.
    def fetch_all(r):
        problems = []
        local = os.path.join(work, "models", str(r["i"]))
        sigs = []
        for u in reps:
            for name in ("config.json", "weights.bin", "model.sig"):
                try:
                    b = get(f"{u}/{r['repo']}/resolve/{r['commit']}/{name}")
                except Exception as e:  # noqa: BLE001
                    problems.append(f"model {r['i']} {name} from {u}: {e}")
                    continue
                if name == "model.sig":
                    sigs.append(b)
                else:
                    with open(os.path.join(local, name), "rb") as f:
                        if f.read() != b:
                            problems.append(f"model {r['i']} {name} from {u}: bytes differ")
        if len(sigs) == len(reps) and len(set(sigs)) != 1:
            problems.append(f"model {r['i']}: model.sig differs between replicas")
        if sigs:
            d = os.path.join(work, "dl", str(r["i"]))
            os.makedirs(d, exist_ok=True)
            for name in ("config.json", "weights.bin"):
                with open(os.path.join(local, name), "rb") as src, \
                        open(os.path.join(d, name), "wb") as dst:
                    dst.write(src.read())
            with open(os.path.join(d, "model.sig"), "wb") as f:
                f.write(sigs[0])
        return problems, (sigs[0] if sigs else None)

    t0 = time.time()
    with cf.ThreadPoolExecutor(16) as ex:
        fetched = list(ex.map(fetch_all, acked))
    problems = [p for ps, _ in fetched for p in ps]
    c.expect(not problems, f"every acknowledged push ({len(acked)}) downloads from every replica "
             f"with the pushed bytes, and its bundle is byte-identical on all "
             f"({len(acked) * 3 * len(reps)} GETs, {time.time() - t0:.1f} s)", problems)
    bundles = {r["i"]: json.loads(s) for r, (_, s) in zip(acked, fetched) if s}

    # Signature: hallmark verify sigstore, offline, with the uploader's identity.
    def verify(r):
        d = os.path.join(work, "dl", str(r["i"]))
        p = subprocess.run([a.hm, "verify", "sigstore", d, "--signature", os.path.join(d, "model.sig"),
                            "--trust-config", tc_path, "--identity", f"{a.public}/{r['user']}",
                            "--identity-provider", a.public, "-q", "--threads", "1"],
                           capture_output=True, text=True)
        return None if p.returncode == 0 else f"model {r['i']}: {(p.stderr + p.stdout).strip()[-200:]}"

    t0 = time.time()
    with cf.ThreadPoolExecutor(4) as ex:
        bad_sigs = [x for x in ex.map(verify, [r for r in acked if r["i"] in bundles]) if x]
    c.expect(not bad_sigs, f"hallmark verify sigstore (offline, trust config, uploader identity "
             f"{a.public}/<user>, issuer {a.public}) accepts all {len(bundles)} "
             f"({time.time() - t0:.1f} s)", bad_sigs)

    # Negative controls: the same verifier refuses another identity and a flipped byte.
    if bundles:
        r = next(r for r in acked if r["i"] in bundles)
        d = os.path.join(work, "dl", str(r["i"]))
        other = next((u for u, _ in load_tokens_list(acked) if u != r["user"]), "nobody")
        wrong = subprocess.run([a.hm, "verify", "sigstore", d, "--signature", os.path.join(d, "model.sig"),
                                "--trust-config", tc_path, "--identity", f"{a.public}/{other}",
                                "--identity-provider", a.public, "-q"], capture_output=True)
        w = os.path.join(d, "weights.bin")
        data = bytearray(open(w, "rb").read())
        data[100] ^= 1
        open(w, "wb").write(bytes(data))
        flipped = subprocess.run([a.hm, "verify", "sigstore", d, "--signature", os.path.join(d, "model.sig"),
                                  "--trust-config", tc_path, "--identity", f"{a.public}/{r['user']}",
                                  "--identity-provider", a.public, "-q"], capture_output=True)
        c.expect(wrong.returncode != 0 and flipped.returncode != 0,
                 f"… and refuses another identity ({other}) and a flipped byte (controls)")

    # Log entries named by the bundles.
    entries = {}
    seen_cps = {}
    for r in acked:
        b = bundles.get(r["i"])
        if not b:
            continue
        e = b["verificationMaterial"]["tlogEntries"][0]
        idx = int(e["logIndex"])
        entries[r["i"]] = (idx, base64.b64decode(e["canonicalizedBody"]))
        env = e["inclusionProof"]["checkpoint"]["envelope"]
        seen_cps[env] = parse_note(env)
    idxs = [v[0] for v in entries.values()]
    c.expect(len(set(idxs)) == len(idxs),
             f"every bundle's logIndex is distinct ({len(idxs)} bundles)",
             [f"index {k} used {idxs.count(k)} times" for k in sorted(set(idxs)) if idxs.count(k) > 1])
    mism = [f"model {r['i']}: push said {r['log_index']}, bundle {entries[r['i']][0]}"
            for r in acked if r["i"] in entries and entries[r["i"]][0] != r["log_index"]]
    c.expect(not mism, "the log index the push reported is the bundle's", mism)

    # The final checkpoint, the same from every replica.
    notes = [get(f"{u}/checkpoint").decode() for u in reps]
    c.expect(len(set(notes)) == 1, f"/checkpoint identical on all {len(reps)} replicas",
             [f"{u}: size {parse_note(n)[1]}" for u, n in zip(reps, notes)])
    final = max(notes, key=lambda n: parse_note(n)[1])
    origin, size, root = parse_note(final)
    print(f"    final checkpoint: {origin!r} size {size}", flush=True)
    sizes_v1 = [json.loads(get(f"{u}/api/v1/log"))["treeSize"] for u in reps]
    c.expect(all(int(s) == size for s in sizes_v1), f"Rekor v1 /api/v1/log treeSize = {size} on every replica",
             [f"{u}: {s}" for u, s in zip(reps, sizes_v1)])
    # Each push logs two entries: the hub's signature and its signed scan claim (issue 16).
    c.expect(size == 2 * len(acked), f"log size {size} == 2 x acknowledged pushes {len(acked)} "
             "(each push logs its signature and its scan claim)")
    if a.db_count is not None:
        c.expect(2 * a.db_count == size,
                 f"log size {size} == 2 x signed revisions recorded in PostgreSQL ({a.db_count})")
    if a.queue_count is not None:
        c.expect(a.queue_count == size, f"log size {size} == sequenced rows of tlog_queue ({a.queue_count})")

    # The whole log from the tiles of every replica: byte-identical, every bundle's entry at
    # its index, nothing twice, roots of the final and of every checkpoint any client saw.
    leaves_by_rep = []
    raw = []
    for u in reps:
        body = []
        for t in range((size + 255) // 256):
            w = min(256, size - t * 256)
            path = f"tile/entries/{tile_index(t)}" + ("" if w == 256 else f".p/{w}")
            data = get(f"{u}/{path}")
            k = 0
            while k < len(data) and len(body) < t * 256 + w:
                ln = int.from_bytes(data[k:k + 2], "big")
                body.append(data[k + 2:k + 2 + ln])
                k += 2 + ln
        raw.append(body)
        leaves_by_rep.append([leaf_hash(x) for x in body])
    c.expect(all(r == raw[0] for r in raw) and len(raw[0]) == size,
             f"entry bundles identical on every replica, {size} entries")
    log = raw[0]
    leaves = leaves_by_rep[0]
    memo = {}
    c.expect(size > 0 and mth(leaves, 0, size, memo) == root,
             "the final checkpoint's root is the Merkle root of the entries in the tiles")
    pos = {}
    for k, e in enumerate(log):
        pos.setdefault(e, []).append(k)
    dup = [f"entry {v} is logged {len(v)} times" for v in pos.values() if len(v) > 1]
    c.expect(not dup, "no entry is logged twice", dup)
    wrong = [f"model {i}: index {idx}" for i, (idx, body) in entries.items()
             if idx >= size or log[idx] != body]
    c.expect(not wrong, f"every bundle's entry is in the log at its logIndex ({len(entries)})", wrong)
    bad_prefix = [f"checkpoint size {m}" for (_, m, r) in seen_cps.values()
                  if not (0 < m <= size and mth(leaves, 0, m, memo) == r)]
    c.expect(not bad_prefix, f"every checkpoint a client saw ({len(seen_cps)} distinct, sizes "
             f"{min(v[1] for v in seen_cps.values())}..{max(v[1] for v in seen_cps.values())}) "
             "is the root of a prefix of the final log", bad_prefix)

    # Consistency proofs served by the replicas (Rekor v1 /api/v1/log/proof), verified here.
    def proof_ok(k_env):
        k, (_, m, r) = k_env
        u = reps[k % len(reps)]
        p = json.loads(get(f"{u}/api/v1/log/proof?firstSize={m}&lastSize={size}"))
        return verify_consistency(m, size, [bytes.fromhex(h) for h in p["hashes"]], r, root) \
            and bytes.fromhex(p["rootHash"]) == root, f"size {m} via {u}"
    with cf.ThreadPoolExecutor(8) as ex:
        res = list(ex.map(proof_ok, enumerate(seen_cps.values())))
    c.expect(all(ok for ok, _ in res), f"RFC 9162 consistency proof from every seen checkpoint to "
             f"the final one (from the replicas' /api/v1/log/proof, verified independently)",
             [w for ok, w in res if not ok])

    # hallmark log audit: the full tree on every replica, and incrementally from every
    # checkpoint a client saw (signature of that checkpoint + consistency proof from tiles).
    for u in reps:
        p = subprocess.run([a.hm, "log", "audit", u, "--public-key", pub, "--origin", origin],
                           capture_output=True, text=True)
        c.expect(p.returncode == 0, f"hallmark log audit {u}: {p.stdout.strip().splitlines()[0] if p.stdout else ''}",
                 (p.stderr + p.stdout).strip().splitlines()[-4:])

    def audit_since(k_env):
        k, env = k_env
        u = reps[k % len(reps)]
        f = os.path.join(work, "seen", f"{k}.cp")
        os.makedirs(os.path.dirname(f), exist_ok=True)
        with open(f, "w") as fh:
            fh.write(env)
        p = subprocess.run([a.hm, "log", "audit", u, "--public-key", pub, "--since-checkpoint", f],
                           capture_output=True, text=True)
        return p.returncode == 0, f"size {seen_cps[env][1]} via {u}: {(p.stderr + p.stdout).strip()[-200:]}"
    t0 = time.time()
    with cf.ThreadPoolExecutor(4) as ex:
        res = list(ex.map(audit_since, enumerate(seen_cps)))
    c.expect(all(ok for ok, _ in res), f"hallmark log audit --since-checkpoint accepts every one of the "
             f"{len(seen_cps)} checkpoints clients saw (signed, and extended by the final tree) "
             f"({time.time() - t0:.1f} s)", [w for ok, w in res if not ok])

    # hallmark pull through the load balancer (public URL), pinned identity, for a sample.
    if a.pull_sample:
        sample = random.Random(1).sample(acked, min(a.pull_sample, len(acked)))

        def pull(r):
            d = os.path.join(work, "pull", str(r["i"]))
            p = subprocess.run([a.hm, "pull", r["repo"], d, "--hub", a.public, "-q",
                                "--revision", r["commit"], "--identity", f"{a.public}/{r['user']}"],
                               capture_output=True, text=True)
            return None if p.returncode == 0 else f"model {r['i']}: {(p.stderr + p.stdout).strip()[-200:]}"
        with cf.ThreadPoolExecutor(4) as ex:
            bad_pulls = [x for x in ex.map(pull, sample) if x]
        c.expect(not bad_pulls, f"hallmark pull --identity through the load balancer verifies "
                 f"{len(sample)} sampled models", bad_pulls)

    print(f"checks: {c.passed} passed, {c.failed} failed", flush=True)
    return 0 if c.failed == 0 else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("push")
    p.add_argument("--hm", required=True)
    p.add_argument("--hubs")
    p.add_argument("--hubs-file")
    p.add_argument("--inflight")
    p.add_argument("--tokens", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--until")
    p.add_argument("--jobs", type=int, default=16)
    p = sub.add_parser("check")
    p.add_argument("--hm", required=True)
    p.add_argument("--replicas", required=True)
    p.add_argument("--public", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--results", nargs="+", required=True)
    p.add_argument("--db-count", type=int)
    p.add_argument("--queue-count", type=int)
    p.add_argument("--pull-sample", type=int, default=0)
    a = ap.parse_args()
    sys.exit(cmd_push(a) if a.cmd == "push" else cmd_check(a))


if __name__ == "__main__":
    main()
