/* cli_commands.c: the table of navette's commands with their options, usage and
 * help text (what `navette help CMD` prints). Read by cli.c only. */
#include "cli_commands.h"

#include <stddef.h>


#define NV_FILTER_OPTS "exclude include exclude-from files-from min-age max-age"
/* Options of the commands that move data, for unattended runs. */
#define NV_MOVE_OPTS " bwlimit max-transfer metrics-file max-memory"
/* Sharded runs (cli_shard.c). */
#define NV_SHARD_OPTS " shard shard-count run"
#define NV_SYNC_OPTS "dry-run checksum transfers buffer-size retries verify progress fsync timeout " \
	NV_FILTER_OPTS " wait-lock backup-dir report" NV_MOVE_OPTS NV_SHARD_OPTS
#define NV_HELP_MOVE \
	"\n\nUnattended runs: --bwlimit RATE reads and writes at most RATE bytes/s each\n" \
	"(10M = 10 MiB/s, 512K, off; one bucket for the whole run), or follows a\n" \
	"timetable such as \"08:00,10M 19:00,off\" (local time; Mon-08:00 for one day).\n" \
	"--max-transfer SIZE stops once SIZE bytes were written (exit 3): the file in\n" \
	"flight is abandoned, nothing half-committed; the next run goes on from there.\n" \
	NV_HELP_METRICS
#define NV_HELP_METRICS \
	"--metrics-file PATH writes the run's figures (last success time, duration,\n" \
	"bytes, objects, failures, generation, exit code) in the Prometheus text format\n" \
	"for node_exporter's textfile collector: atomically, mode 0644, one file per job."

#define NV_MERGE_USAGE \
	"check --merge-reports OUT [--signing-key KEY] [--signing-pubkey KEY.pub] REPORT..."
#define NV_HELP_MERGE \
	"--merge-reports OUT merges the --report files of every shard of one run\n" \
	"(check --shard K/N --run ID) into OUT, the report one unsharded check would\n" \
	"have written; refused unless shards 0..N-1 of that run over the same two\n" \
	"locations and options are each given once. A signed shard report (REPORT.sig)\n" \
	"is checked with --signing-pubkey, which then every report needs, or with the\n" \
	"public half of --signing-key; --signing-key signs OUT into OUT.sig."

const nv_command nv_check_merge = {
	"check", nv_cmd_merge_reports, 1, -1, "merge-reports signing-key signing-pubkey",
	NV_MERGE_USAGE, NV_HELP_MERGE
};

const nv_command nv_commands[] = {
	{ "ls", nv_cmd_ls, 1, 1, "json generation identity passphrase-file signing-pubkey",
	  "ls LOCATION|VAULT [--generation N]",
	  "List the files at LOCATION: size, modification time (UTC) and path. For a\n"
	  "vault, list the files of its newest generation (or N); needs --identity." },
	{ "copy", nv_cmd_copy, 2, 2, NV_SYNC_OPTS, "copy SRC DST",
	  "Copy new and changed files from SRC to DST; never deletes. Unchanged files\n"
	  "(same size and mtime, or same SHA-256 with --checksum) are skipped.\n"
	  "Every copied file's SHA-256 is computed from the bytes as they are sent (one\n"
	  "read of SRC; in the JSON log's items, -v --log-json), and DST confirms what it\n"
	  "can: local, sftp: the stored size (every write acknowledged). s3: each PUT and\n"
	  "each part carries its Content-MD5 and signed SHA-256 (x-amz-content-sha256),\n"
	  "which AWS checks (not every S3 server does); an ETag equal to the MD5 sent\n"
	  "confirms those bytes are stored, else a HEAD confirms the size. No server\n"
	  "checks a multipart object's SHA-256 (S3's x-amz-checksum-sha256 of one is a\n"
	  "checksum of its parts' checksums). azure: each Put Blob and Put Block carries\n"
	  "its Content-MD5, which the service checks; the blob's MD5 is stored as\n"
	  "x-ms-blob-content-md5. A body refused for its digest is sent again.\n"
	  "--verify reread also reads the stored copy back and compares its SHA-256: a\n"
	  "difference fails the file (exit 1) and removes the copy, for the next run.\n"
	  "Holds DST's local lock and lease (another run: exit 4 naming it, unless\n"
	  "--wait-lock DURATION); --backup-dir LOCATION first keeps what it overwrites.\n"
	  "Filters (--exclude, --include, --exclude-from FILE, --files-from FILE, rclone's\n"
	  "glob rules, first match wins; --min-age/--max-age DURATION: file age) choose\n"
	  "the files considered on both sides. --report FILE records each file's SHA-256\n"
	  "as sent, for `check --hashes-from FILE` (navette(1), REPORTS)."
	  NV_HELP_MOVE },
	{ "sync", nv_cmd_copy, 2, 2,
	  NV_SYNC_OPTS " delete delete-excluded allow-empty-source max-delete",
	  "sync SRC DST [--delete [--max-delete N|N%] [--allow-empty-source]]",
	  "Make DST like SRC: copy as `copy` does, and with --delete remove files that\n"
	  "SRC lacks, once every transfer succeeded and both listings ended in order.\n"
	  "The delete guard refuses (exit 4, nothing deleted) when SRC lists no files\n"
	  "(--allow-empty-source overrides) or when more than --max-delete N files or\n"
	  "N% of DST would go (default: 50%); --dry-run says what it would decide.\n"
	  "--backup-dir LOCATION moves what would be deleted or overwritten there\n"
	  "(LOCATION/key) instead. Files a filter excludes are never deleted at DST\n"
	  "unless --delete-excluded. Locks and filters as for copy."
	  NV_HELP_MOVE },
	{ "check", nv_cmd_copy, 2, 2, "size-only transfers buffer-size retries timeout "
	  "metrics-file progress report signing-key signing-pubkey hashes-from merge-reports "
	  "max-memory " NV_FILTER_OPTS NV_SHARD_OPTS,
	  "check SRC DST [--report FILE [--signing-key KEY]]\n  navette " NV_MERGE_USAGE,
	  "Compare SRC and DST by SHA-256 (or --size-only): report files that differ,\n"
	  "are missing at DST or only at DST. Exit 1 when anything differs. Filters as\n"
	  "for copy; takes no lock (it writes nothing). --report FILE writes the proof\n"
	  "of migration: one JSON line per file (both sides' size and SHA-256, how each\n"
	  "was obtained, the verdict), what was not compared, the filters and totals;\n"
	  "--signing-key KEY signs it into FILE.sig (SSHSIG, namespace navette-report).\n"
	  "--hashes-from REPORT takes SRC's SHA-256 from a copy's --report where the file\n"
	  "is unchanged since, instead of reading SRC again. For a vault pair, --report\n"
	  "checks every object the source's signed manifests name, on both sides.\n"
	  NV_HELP_MERGE "\n\n" NV_HELP_METRICS },
	{ "keygen", nv_cmd_keygen, 0, 0, "output signing", "keygen [-o FILE] [--signing]",
	  "Make one key: an age identity (printed, or written to FILE; its public key\n"
	  "age1... goes to stdout), or with --signing an OpenSSH Ed25519 signing key\n"
	  "written to FILE and FILE.pub. The decryption identity and the signing key are\n"
	  "separate, so they need never share a machine." },
	{ "init", nv_cmd_init, 1, 1,
	  "recipient recipients-file signing-key passphrase-file fsync timeout",
	  "init VAULT --recipient age1... | --recipients-file FILE --signing-key FILE\n"
	  "  [--passphrase-file FILE]",
	  "Create an encrypted vault at VAULT and pin its id, recipients and signing key\n"
	  "on this host. Keeps the vault id key K_id in this host's state for push." },
	{ "push", nv_cmd_push, 2, 2,
	  "signing-key passphrase-file signing-pubkey transfers buffer-size retries fsync timeout "
	  "progress dry-run wait-lock " NV_FILTER_OPTS NV_MOVE_OPTS NV_SHARD_OPTS,
	  "push DIR VAULT [--signing-key FILE] [--passphrase-file FILE] [--dry-run]\n"
	  "  navette push DIR VAULT --shard K/N|auto --run ID   (no signing key: see publish)",
	  "Encrypt DIR's files into VAULT as a new signed generation: unchanged files are\n"
	  "not re-read, equal contents stored once; needs no identity. Holds VAULT's\n"
	  "local lock and lease (as copy). Filters as for copy: the generation holds the\n"
	  "files that pass. --dry-run says what would be uploaded and writes nothing.\n"
	  "A passphrase-protected signing key (ssh-keygen -N) reads its passphrase from\n"
	  "--passphrase-file FILE (or $NAVETTE_PASSPHRASE_FILE, or passphrase_file in\n"
	  "the config), else from the terminal.\n"
	  "--shard K/N --run ID: one shard of a push split across hosts, which hold no\n"
	  "signing key (only K_id, and the vault's pin or --signing-pubkey): it uploads\n"
	  "its files' objects and a partial catalog for the run's key (publish --prepare);\n"
	  "navette publish then makes one generation of the run's shards." NV_HELP_MOVE },
	{ "publish", nv_cmd_publish, 1, 1,
	  "prepare run wait signing-key passphrase-file signing-pubkey transfers buffer-size "
	  "retries fsync timeout progress metrics-file max-memory",
	  "publish VAULT --prepare --run ID --signing-key FILE\n"
	  "  navette publish VAULT --run ID --signing-key FILE [--wait DURATION] [--fsync MODE]",
	  "A sharded push in one generation. --prepare writes the run's key into VAULT\n"
	  "(an age key whose identity stays in this host's state, signed with the vault's\n"
	  "signing key); then the shards push (push --shard K/N --run ID); then publish\n"
	  "checks that shards 0..N-1 of the run all wrote an authentic partial catalog\n"
	  "(a missing one: exit 4; a forged or altered one: exit 1, naming it), reads\n"
	  "back every object they recorded (its stored size and SHA-256; a difference:\n"
	  "exit 1, naming the shard), and publishes one signed generation, as one push\n"
	  "of the whole tree would; then removes the run's files and key. Holds VAULT's\n"
	  "lease exclusively: the shards must be over. --wait DURATION waits that long\n"
	  "for shards still missing or running (a scheduler without job dependencies).\n"
	  "--fsync as for push (default batch), for what publish writes; batch's syncfs\n"
	  "also flushes what shards on this host left unsynced in the vault's file system.\n\n"
	  NV_HELP_METRICS },
	{ "pull", nv_cmd_pull, 2, -1,
	  "identity passphrase-file signing-pubkey generation transfers buffer-size retries "
	  "fsync timeout keep-modes progress wait-lock" NV_MOVE_OPTS NV_SHARD_OPTS,
	  "pull VAULT DIR [--generation N] [PATH...] --identity FILE",
	  "Restore VAULT's newest generation (or N) into DIR, all of it or the PATHs given.\n"
	  "Each object is read once, hashed and decrypted in one pass; a file is renamed\n"
	  "into place only when its object matches the signed manifest and its plaintext\n"
	  "the signed catalog. Holds this host's lock on DIR (no lease: nothing is\n"
	  "written there but files)." NV_HELP_MOVE },
	{ "verify", nv_cmd_verify, 1, 1,
	  "level max-age identity passphrase-file signing-pubkey signing-pubkeys all transfers "
	  "timeout metrics-file progress sample seed max-memory" NV_SHARD_OPTS,
	  "verify VAULT [--level list|hash|deep] [--max-age DURATION] [--sample PCT|N [--seed S]]\n"
	  "  navette verify --all PREFIX [--signing-pubkeys FILE] [--level list|hash]",
	  "Check VAULT: signatures and the hash chain of every manifest, every object of\n"
	  "the newest generation present with its size (list), its stored SHA-256 (hash),\n"
	  "or decrypted and checked against the catalog (deep, needs --identity). With\n"
	  "--max-age, the signed heartbeat must be younger than DURATION (30m, 26h, 7d).\n"
	  "--sample 1/7 (or 10%, or 200 objects) reads a seeded share of the objects\n"
	  "(hash, deep); the seed (default: the day number) moves the share, so 7\n"
	  "consecutive daily runs read every object (navette(1), SAMPLING).\n\n"
	  NV_HELP_METRICS },
	{ "drill", nv_cmd_drill, 1, 1,
	  "identity passphrase-file signing-pubkey to no-keep sample seed report report-md canary "
	  "max-age transfers buffer-size retries fsync timeout progress bwlimit metrics-file "
	  "max-memory",
	  "drill VAULT --identity FILE [--to DIR|--no-keep] [--sample PCT%|N] [--seed S]\n"
	  "    [--report FILE] [--report-md FILE] [--max-age DURATION]\n"
	  "  navette drill VAULT --canary --identity DRILL-KEY (see drill-key)",
	  "A disaster-recovery drill: restore VAULT's newest generation (or a seeded sample\n"
	  "of its files: always the largest and one per top-level directory) into a scratch\n"
	  "directory under the state directory, removed afterwards (--to DIR: into DIR,\n"
	  "kept; --no-keep: streamed and checked, nothing written); each object read once\n"
	  "and checked against the signed manifest and catalog before it is committed; the\n"
	  "manifest chain checked back to generation 1. Prints files and bytes checked,\n"
	  "failures, the time to restore (RTO) and the ages of the last push (heartbeat)\n"
	  "and of the generation (RPO); --report FILE writes them as JSON, --report-md\n"
	  "FILE as Markdown. Exit 1 on any failure or a heartbeat older than --max-age.\n"
	  "--canary: a scheduled drill with a drill key: the canary files only, and every\n"
	  "other object's stored SHA-256 (nothing else decrypted)." },
	{ "drill-key", nv_cmd_drillkey, 2, 2, "recipient recipients-file signing-key "
	  "signing-pubkey timeout", "drill-key add|remove|list VAULT [--recipient age1...]",
	  "List, add or remove the drill recipients of VAULT (its navette-drill.json, signed\n"
	  "with --signing-key): pushes encrypt the canary files to them as well." },
	{ "log", nv_cmd_log, 1, 1, "json signing-pubkey timeout", "log VAULT",
	  "List VAULT's generations: number, time, objects, stored bytes." },
	{ "replicate", nv_cmd_replicate, 2, 2,
	  "signing-pubkey signing-pubkeys all transfers buffer-size retries verify fsync timeout "
	  "wait-lock progress dry-run" NV_MOVE_OPTS NV_SHARD_OPTS,
	  "replicate SRC-VAULT DST-VAULT [--signing-pubkey KEY] [--verify size|reread|hash]\n"
	  "  navette replicate --all SRC-PREFIX DST-PREFIX [--signing-pubkeys FILE]",
	  "Copy a vault to another location without any key: the source's descriptor,\n"
	  "manifests (signatures and hash chain) and heartbeat are verified against the\n"
	  "pin first; every object is checked against the signed manifest as it streams;\n"
	  "the destination gets objects, then catalogs, then each manifest's signature\n"
	  "before the manifest, then the heartbeat: a reader of the replica always sees a\n"
	  "complete vault. Incremental and resumable; --verify hash also re-hashes what\n"
	  "the destination holds and repairs a bad object. Holds the lease at DST;\n"
	  "--dry-run says what would be copied and published, and writes nothing.\n"
	  "--all replicates every vault found under SRC-PREFIX to the same place under\n"
	  "DST-PREFIX, each under its own pin (or its line of --signing-pubkeys FILE:\n"
	  "'<vault id> ssh-ed25519 AAAA...'); one failing vault does not stop the others."
	  NV_HELP_MOVE },
	{ "unlock", nv_cmd_unlock, 1, 1, "remove-all timeout", "unlock LOCATION [--remove-all]",
	  "Remove stale leases at LOCATION: those that stay unchanged for a full TTL while\n"
	  "watched (up to the TTL); with --remove-all, every lease at once (make sure no\n"
	  "run is still writing)." },
	{ NULL, NULL, 0, 0, NULL, NULL, NULL },
};
