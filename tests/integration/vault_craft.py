#!/usr/bin/env python3
# vault_craft.py: builds hostile vault content for the reader tests with stock
# tools only (age -r, ssh-keygen -Y sign), as an attacker holding the signing
# key could: a new generation from a crafted catalog, or a signed heartbeat.
#
#   vault_craft.py gen VAULT RECIPIENT SIGNKEY ENTRIES.json [TIME]
#       ENTRIES: [{"path": P, "data": TEXT, "mode": 420?, "cut": [C, X]?,
#                  "object": NAME?, "sha256": HEX?, "size": N?, "mtime": SECONDS?,
#                  "mtime_ns": NS?}, ...] written
#       in the given order (no sorting: the reader must judge). "cut" keeps C
#       whole payload chunks and X bytes of the next one of the stored object
#       before the manifest records it (and so vouches for it); "object"
#       names an object instead of encrypting data; sha256/size override what
#       the catalog claims. Publishes generation newest+1, chained and signed,
#       and a signed heartbeat for it. Prints the generation. TIME (any
#       text) replaces the manifest's time; the heartbeat keeps the real one.
#   vault_craft.py heartbeat VAULT SIGNKEY TIME [GENERATION]
#       A signed heartbeat for GENERATION (default: the newest) at TIME.
import hashlib, json, os, secrets, subprocess, sys, time


def dumps(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def sign(vault, key, rel):
    path = os.path.join(vault, rel)
    if os.path.exists(path + ".sig"):
        os.unlink(path + ".sig")
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", "navette-manifest", "-f", key,
                    path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def newest(vault):
    d = os.path.join(vault, "manifests")
    gens = sorted(int(f[:20]) for f in os.listdir(d) if f.endswith(".json")) if os.path.isdir(d) else []
    return gens[-1] if gens else 0


def mkey(g):
    return "manifests/%020d.json" % g


def payload_start(b):
    i = b.index(b"\n---")
    return b.index(b"\n", i + 1) + 1 + 16


def put_object(vault, recipient, data, cut=None):
    oid = secrets.token_hex(32)
    name = "objects/%s/%s.%s.age" % (oid[:2], oid, secrets.token_hex(8))
    path = os.path.join(vault, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run(["age", "-r", recipient, "-o", path], input=data, check=True)
    if cut is not None:  # [full chunks kept, extra bytes of the next one]
        with open(path, "r+b") as f:
            f.truncate(payload_start(f.read()) + cut[0] * (65536 + 16) + cut[1])
    return name


def record(vault, name):
    b = open(os.path.join(vault, name), "rb").read()
    return {"name": name, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}


def heartbeat(vault, key, when, gen=None):
    vid = json.load(open(os.path.join(vault, "navette-vault.json")))["vault_id"]
    g = gen if gen is not None else newest(vault)
    m = open(os.path.join(vault, mkey(g)), "rb").read() if os.path.exists(os.path.join(vault, mkey(g))) else b""
    hb = {"generation": g, "manifest_sha256": hashlib.sha256(m).hexdigest(), "time": when,
          "type": "heartbeat", "vault_id": vid, "version": 1}
    open(os.path.join(vault, "heartbeat.json"), "w").write(dumps(hb))
    sign(vault, key, "heartbeat.json")


def gen(vault, recipient, key, entries, when=None):
    vid = json.load(open(os.path.join(vault, "navette-vault.json")))["vault_id"]
    g = newest(vault) + 1
    objs = {}
    lines = [dumps({"generation": g, "type": "catalog", "vault_id": vid, "version": 1})]
    for e in entries:
        data = e.get("data", "").encode()
        name = e.get("object") or put_object(vault, recipient, data, e.get("cut"))
        if os.path.exists(os.path.join(vault, name)):
            objs[name] = record(vault, name)
        lines.append(dumps({"mode": e.get("mode", 0o644), "mtime": e.get("mtime", 1700000000),
                            "mtime_ns": e.get("mtime_ns", 0),
                            "object": name, "path": e["path"],
                            "sha256": e.get("sha256", hashlib.sha256(data).hexdigest()),
                            "size": e.get("size", len(data))}))
    cat = put_object(vault, recipient, "".join(lines).encode())
    objs[cat] = record(vault, cat)
    recs = [objs[n] for n in sorted(objs)]
    prev = None
    if g > 1:
        prev = hashlib.sha256(open(os.path.join(vault, mkey(g - 1)), "rb").read()).hexdigest()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    head = {"bytes": sum(r["size"] for r in recs), "catalog": cat, "generation": g,
            "objects": len(recs), "previous": prev, "time": now if when is None else when,
            "type": "manifest", "vault_id": vid, "version": 1}
    open(os.path.join(vault, mkey(g)), "w").write(dumps(head) + "".join(dumps(r) for r in recs))
    sign(vault, key, mkey(g))
    heartbeat(vault, key, now, g)
    print(g)


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], sys.argv[3], sys.argv[4], json.load(open(sys.argv[5])),
            sys.argv[6] if len(sys.argv) > 6 else None)
    elif sys.argv[1] == "heartbeat":
        heartbeat(sys.argv[2], sys.argv[3], sys.argv[4],
                  int(sys.argv[5]) if len(sys.argv) > 5 else None)
    else:
        sys.exit("usage: vault_craft.py gen|heartbeat ...")
