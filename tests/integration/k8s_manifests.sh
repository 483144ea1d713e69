# k8s_manifests.sh: the Kubernetes manifests of conf/kubernetes, checked without
# a cluster (none is reachable here): each parses as YAML; the shards are an
# Indexed Job whose completions and parallelism equal the --shard-count its
# pods pass with --shard auto; the run id is the same in every Job; the
# credentials and keys are Secrets mounted as volumes (never an argument, an
# environment value or a secretKeyRef), the signing key in no shard pod; the
# push has its prepare Job and its publish --wait Job, the sync its merge Job;
# every argument is an option the navette under test knows for that command
# (push's and publish's once publish is in the build).
. "$NV_SRCDIR/tests/lib/common.sh"
command -v python3 >/dev/null || nv_need "python3"
python3 -c 'import yaml' 2>/dev/null || nv_need "python3-yaml (PyYAML)"

# The options each command takes, from the navette under test.
opts() { "$NAVETTE" help "$1" | sed -n 's/^options: //p'; }
export NV_OPTS_PUSH="$(opts push)" NV_OPTS_SYNC="$(opts sync)" NV_OPTS_CHECK="$(opts check)"
export NV_OPTS_PUBLISH="$("$NAVETTE" help publish >/dev/null 2>&1 && opts publish)"

# validate FILE KIND N: prints "ok - ..." / "not ok - ..." lines for the manifest.
validate() {
	python3 - "$@" <<'PY'
import os, re, shlex, sys, yaml

path, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
name = os.path.basename(path)
def report(good, what):
    print(("ok - " if good else "not ok - ") + name + ": " + what)

try:
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
except yaml.YAMLError as e:
    report(False, "parses as YAML (%s)" % e)
    sys.exit(0)
report(True, "parses as YAML (%d documents)" % len(docs))
jobs = [d for d in docs if d.get("kind") == "Job" and d.get("apiVersion") == "batch/v1"]
report(len(jobs) >= 2, "holds batch/v1 Jobs (%d)" % len(jobs))

def pod(job): return job["spec"]["template"]["spec"]
def container(job): return pod(job)["containers"][0]
def words(job):
    """A container's navette words: its args, or those of a /bin/sh -c script."""
    c = container(job)
    if c.get("command", [None])[:2] == ["/bin/sh", "-c"]:
        script = c["args"][0].replace("\\\n", " ")
        return [shlex.split(l.strip()) for l in script.splitlines()
                if re.match(r"\s*(exec\s+)?navette\s", l)]
    return [["navette"] + [str(a) for a in c.get("args", [])]]
def calls(job):
    return [w[w.index("navette") + 1:] for w in words(job)]
def value(args, opt):
    return args[args.index(opt) + 1] if opt in args else None

indexed = [j for j in jobs if j["spec"].get("completionMode") == "Indexed"]
report(len(indexed) == 1, "one Indexed Job (completionMode: Indexed)")
if not indexed:
    sys.exit(0)
shards = indexed[0]
spec = shards["spec"]
report(spec.get("completions") == count and spec.get("parallelism") == count,
       "completions == parallelism == %d (%s, %s)" % (count, spec.get("completions"),
                                                    spec.get("parallelism")))
report(pod(shards).get("restartPolicy") == "Never", "the shards' pods are not restarted in place")
shard_calls = [a for a in calls(shards) if "--shard" in a]
report(len(shard_calls) >= 1 and all(value(a, "--shard") == "auto" for a in shard_calls),
       "the shards run --shard auto")
report(all(value(a, "--shard-count") == str(count) for a in shard_calls),
       "and --shard-count %d, the Job's completions" % count)
runs = {value(a, "--run") for j in jobs for a in calls(j) if "--run" in a}
report(len(runs) == 1 and None not in runs, "one run id in every Job (%s)" % sorted(map(str, runs)))
run = runs.pop() if len(runs) == 1 else None
report(all(run in j["metadata"]["name"] for j in jobs), "each Job's name carries the run id")

# Secrets: volumes only, mounted read-only, 0400; nothing secret elsewhere.
for j in jobs:
    p, c, jn = pod(j), container(j), j["metadata"]["name"]
    secret_vols = {v["name"]: v["secret"] for v in p.get("volumes", []) if "secret" in v}
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    secret_dirs = [mounts[n]["mountPath"] for n in secret_vols if n in mounts]
    report(all(mounts.get(n, {}).get("readOnly") for n in secret_vols) and
           all(s.get("defaultMode") == 0o400 for s in secret_vols.values()) and secret_vols,
           jn + ": credentials from Secret volumes, read-only, mode 0400")
    env = c.get("env", [])
    report(not any("valueFrom" in e for e in env) and not c.get("envFrom"),
           jn + ": no secret through the environment")
    conf = [e["value"] for e in env if e["name"] == "NAVETTE_CONFIG"]
    report(all(any(v.startswith(d + "/") for d in secret_dirs) for v in conf),
           jn + ": NAVETTE_CONFIG is a file of a Secret volume")
    keys = [value(a, o) for a in calls(j) for o in ("--signing-key", "--identity")
            if o in a]
    report(all(k and any(k.startswith(d + "/") for d in secret_dirs) for k in keys),
           jn + ": keys are files of Secret volumes (%d)" % len(keys))
    text = yaml.safe_dump(c)
    report(not re.search(r"(?i)(secret_access_key|sas_token|password|BEGIN OPENSSH)\s*[=:]", text),
           jn + ": no credential written in the manifest")
    state = [e["value"] for e in env if e["name"] == "NAVETTE_STATE_DIR"]
    pvcs = [mounts[v["name"]]["mountPath"] for v in p.get("volumes", [])
            if "persistentVolumeClaim" in v and v["name"] in mounts]
    if any(a and a[0] != "check" for a in calls(j)) or state:
        report(len(state) == 1 and state[0] in pvcs, jn + ": the state directory is a persistent volume")

signing = {v["secret"]["secretName"] for j in jobs for v in pod(j).get("volumes", [])
           if "secret" in v and any(value(a, "--signing-key") for a in calls(j))
           and "signing" in v["name"]}
shard_secrets = {v["secret"]["secretName"] for v in pod(shards).get("volumes", []) if "secret" in v}
report(not (signing & shard_secrets) and not any("--signing-key" in a for a in calls(shards)),
       "no shard pod holds a signing key")

# What each Job runs: options navette knows.
known = {c: set(os.environ.get("NV_OPTS_" + c.upper(), "").split())
         for c in ("push", "sync", "check", "publish")}
for j in jobs:
    for a in calls(j):
        cmd, given = a[0], {w for w in a[1:] if w.startswith("--")}
        if cmd in ("publish", "push") and not known["publish"]:
            print("# %s: navette publish (and the sharded push) is not in this build: "
                  "%s's options not checked" % (j["metadata"]["name"], cmd))
            continue
        report(given <= known.get(cmd, set()),
               "%s: navette %s takes %s" % (j["metadata"]["name"], cmd, " ".join(sorted(given))))

others = [j for j in jobs if j is not shards]
if kind == "push":
    report(all(a[0] == "push" for a in calls(shards)), "the shards push")
    pub = [j for j in others if any(a[0] == "publish" and "--wait" in a and "--prepare" not in a
                                    for a in calls(j))]
    report(len(pub) == 1, "a publish --wait Job follows the shards")
    prep = [j for j in others if any(a[0] == "publish" and "--prepare" in a for a in calls(j))]
    report(len(prep) == 1, "a publish --prepare Job prepares the run")
    report(spec.get("suspend") is True and all(j["spec"].get("suspend") for j in pub),
           "the shards and the publish Job wait (suspended) for the prepared run")
    vaults = {a[-1] for a in calls(shards)} | {a[1] for j in pub + prep for a in calls(j)}
    report(len(vaults) == 1, "one vault in every Job (%s)" % sorted(vaults))
else:
    report([a[0] for a in calls(shards)] == ["sync", "check"], "the shards sync, then check")
    report(all("--report" in a for a in calls(shards) if a[0] == "check"),
           "each shard's check writes its report")
    merge = [j for j in others if any(a[0] == "check" and "--merge-reports" in a for a in calls(j))]
    report(len(merge) == 1, "a check --merge-reports Job follows the shards")
    script = container(merge[0])["args"][0] if merge else ""
    report(("-ge %d" % count) in script, "it waits for the %d shards' reports" % count)
PY
}

for f in push sync; do
	validate "$NV_SRCDIR/conf/kubernetes/navette-$f.yaml" "$f" 4 >"$NV_TMP/out.$f"
	cat "$NV_TMP/out.$f"
	nv_pass=$((nv_pass + $(grep -c '^ok - ' "$NV_TMP/out.$f")))
	nv_fail=$((nv_fail + $(grep -c '^not ok - ' "$NV_TMP/out.$f")))
	check "navette-$f.yaml: checked at all" grep -q '^ok - .*one Indexed Job' "$NV_TMP/out.$f"
done

# The check fails when it should: a shard count that is not the Job's.
sed 's/--shard-count, "4"/--shard-count, "5"/' "$NV_SRCDIR/conf/kubernetes/navette-push.yaml" >"$NV_TMP/bad.yaml"
validate "$NV_TMP/bad.yaml" push 4 >"$NV_TMP/out.bad"
check "a --shard-count other than completions is caught" grep -q '^not ok - .*--shard-count 4' "$NV_TMP/out.bad"
sed 's/defaultMode: 0400/defaultMode: 0444/' "$NV_SRCDIR/conf/kubernetes/navette-push.yaml" >"$NV_TMP/bad.yaml"
validate "$NV_TMP/bad.yaml" push 4 >"$NV_TMP/out.bad"
check "a Secret others may read is caught" grep -q '^not ok - .*mode 0400' "$NV_TMP/out.bad"
printf 'kind: Job\n  bad: [indent\n' >"$NV_TMP/bad.yaml"
validate "$NV_TMP/bad.yaml" push 4 >"$NV_TMP/out.bad"
check "a file that is not YAML is caught" grep -q '^not ok - .*parses as YAML' "$NV_TMP/out.bad"
nv_done
