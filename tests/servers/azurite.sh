# azurite.sh: starts and stops Azurite (blob service only) for tests; source it
# after tests/lib/common.sh. Strict mode (no --loose): navette must not need it.
#
#   nv_start_azurite [EXTRA_ARGS...]  fresh --location under $NV_TMP, a free port;
#                                     sets AZ_PORT, AZ_PID, AZ_ENDPOINT, AZ_ACCOUNT, AZ_KEY
#                                     (EXTRA_ARGS e.g. --cert C --key K makes it https)
#   nv_stop_azurite [PID]             stops it (also done at exit)
#   nv_azurite_container NAME         creates container NAME (Shared Key, via node)
#   nv_azurite_blob C/NAME CONTENT    puts a blob of any name (Shared Key, via node)
#   nv_azurite_remote FILE NAME TYPE [LINE...]  appends an INI remote for this
#                                     Azurite (type azure for navette, azureblob
#                                     for rclone) to FILE, made 0600
AZ_ACCOUNT=devstoreaccount1
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

nv_start_azurite() {
	local main scheme=http dir
	main="$(nv_node_modules)/azurite/dist/src/blob/main.js"
	command -v node >/dev/null || nv_need "node (for Azurite)"
	[ -f "$main" ] || nv_need "Azurite (cd tests/servers && npm install)"
	case " $* " in *" --cert "*) scheme=https ;; esac
	AZ_PORT=$(nv_free_port) || nv_die "no free port"
	dir=$(mktemp -d "$NV_TMP/azurite.XXXXXX")
	node "$main" --blobHost 127.0.0.1 --blobPort "$AZ_PORT" --location "$dir" \
		--disableTelemetry --silent --skipApiVersionCheck "$@" \
		>"$dir.log" 2>&1 &
	AZ_PID=$!
	nv_at_exit "nv_stop_azurite $AZ_PID"
	if ! nv_wait_port "$AZ_PORT" 30; then
		cat "$dir.log" >&2
		nv_die "Azurite did not start on port $AZ_PORT"
	fi
	AZ_ENDPOINT="$scheme://127.0.0.1:$AZ_PORT/$AZ_ACCOUNT"
	export AZ_ENDPOINT
}

nv_stop_azurite() {
	local pid=${1:-${AZ_PID:-}}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	return 0
}

# One request to Azurite's REST API, signed with Shared Key, so tests depend
# on node (which Azurite needs anyway) and nothing else: PUT of AZ_NAME (path
# below the account; each component URL-encoded) with the query AZ_QUERY
# ("restype=container" or ""), body AZ_BODY, headers AZ_HDR ("name:value"
# lines, x-ms-* only). Expects 201. Uses AZ_ENDPOINT; for https set
# NODE_EXTRA_CA_CERTS to the test CA.
nv_azurite_put() {
	node -e '
const crypto = require("crypto"), env = process.env;
const path = "/" + env.AZ_NAME.split("/").map(encodeURIComponent).join("/");
const u = new URL(env.AZ_ENDPOINT + path + (env.AZ_QUERY ? "?" + env.AZ_QUERY : ""));
const body = Buffer.from(env.AZ_BODY || "");
const date = new Date().toUTCString();
const hdr = { "x-ms-date": date, "x-ms-version": "2021-08-06" };
for (const l of (env.AZ_HDR || "").split("\n").filter(Boolean)) hdr[l.split(":")[0]] = l.slice(l.indexOf(":") + 1);
const canon = Object.keys(hdr).sort().map((k) => k + ":" + hdr[k] + "\n").join("");
const query = env.AZ_QUERY ? "\n" + env.AZ_QUERY.replace("=", ":") : "";
const sts = ["PUT", "", "", body.length ? String(body.length) : "", "", "", "", "", "", "", "", ""]
  .join("\n") + "\n" + canon + "/" + env.AZ_ACCOUNT + u.pathname + query;
const sig = crypto.createHmac("sha256", Buffer.from(env.AZ_KEY, "base64"))
  .update(sts, "utf8").digest("base64");
hdr["Content-Length"] = String(body.length);
hdr["Authorization"] = "SharedKey " + env.AZ_ACCOUNT + ":" + sig;
const mod = require(u.protocol === "https:" ? "https" : "http");
const req = mod.request(u, { method: "PUT", headers: hdr }, (res) => {
  res.resume();
  res.on("end", () => { if (res.statusCode !== 201) console.error("HTTP " + res.statusCode + " " + (res.headers["x-ms-error-code"] || "")); process.exit(res.statusCode === 201 ? 0 : 1); });
});
req.on("error", (e) => { console.error(e.message); process.exit(1); });
req.end(body);'
}
# Creates container NAME.
nv_azurite_container() {
	AZ_NAME=$1 AZ_QUERY=restype=container AZ_BODY= AZ_HDR= nv_azurite_put ||
		nv_die "cannot create Azurite container $1"
}
# nv_azurite_blob CONTAINER/NAME CONTENT: a block blob of any name Azurite
# takes, also one navette's own writes refuse (a test's hostile store).
nv_azurite_blob() {
	AZ_NAME=$1 AZ_QUERY= AZ_BODY=$2 AZ_HDR=x-ms-blob-type:BlockBlob nv_azurite_put
}
nv_azurite_remote() {
	local file=$1 name=$2 type=$3 line
	shift 3
	mkdir -p "$(dirname "$file")"
	{
		printf '[%s]\ntype = %s\naccount = %s\nkey = %s\nendpoint = %s\n' \
			"$name" "$type" "$AZ_ACCOUNT" "$AZ_KEY" "$AZ_ENDPOINT"
		for line in "$@"; do printf '%s\n' "$line"; done
	} >>"$file"
	chmod 600 "$file"
}
export AZ_ACCOUNT AZ_KEY AZ_ENDPOINT
