# slurm.sh: a one-node Slurm cluster on this machine for the scheduler tests
# (sourced after common.sh): its own munged (own key and socket), slurmctld and
# slurmd, all as root, configured by a generated slurm.conf under
# $NV_TMP/slurm: ports of their own below the ephemeral range, the node named
# by `hostname -s` at 127.0.0.1 with 2 CPUs, no cgroups (proctrack/linuxproc,
# task/none), no accounting. Stopped by their pids at the test's exit, the jobs
# cancelled first. nv_start_slurm exports SLURM_CONF (sbatch, squeue, scancel
# and the jobs use it), NV_SLURM_DIR, NV_SLURM_PARTITION.
# Debian packages: slurm-wlm and munge (scripts/install-deps.sh --test).

nv_slurm_stop() {
	local p
	[ -n "${SLURM_CONF:-}" ] && scancel --full --quiet --user=root >/dev/null 2>&1
	for p in ${NV_SLURM_PIDS:-}; do kill "$p" 2>/dev/null; done
	for p in ${NV_SLURM_PIDS:-}; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	NV_SLURM_PIDS=""
}

# What the daemons said, for a failure's log.
nv_slurm_logs() {
	local f
	for f in "$NV_SLURM_DIR"/log/*; do
		echo "---- $f"; tail -n 20 "$f"
	done
}

nv_start_slurm() {
	local d h cport dport b
	for b in munged mungekey slurmctld slurmd sbatch sinfo scancel scontrol; do
		command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] ||
			nv_need "slurm-wlm and munge ($b; scripts/install-deps.sh --test)"
	done
	PATH=$PATH:/usr/sbin
	[ "$(id -u)" = 0 ] || nv_need "root (slurmd, slurmctld and munged as root)"
	d=$NV_TMP/slurm
	mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log" && chmod 700 "$d" "$d/munge" ||
		nv_die "mkdir $d"
	NV_SLURM_DIR=$d
	h=$(hostname -s)
	cport=$(nv_free_port) && dport=$(nv_free_port) || nv_die "no free port"
	[ "$cport" != "$dport" ] || dport=$(nv_free_port) || nv_die "no free port"
	nv_at_exit "nv_slurm_stop"

	mungekey --create --keyfile="$d/munge/munge.key" >/dev/null 2>&1 || nv_die "mungekey"
	munged --foreground --force --socket="$d/munge/socket" --key-file="$d/munge/munge.key" \
		--pid-file="$d/munge/munged.pid" --log-file="$d/log/munged.log" \
		--seed-file="$d/munge/seed" >/dev/null 2>&1 &
	NV_SLURM_PIDS="$!"
	for _ in $(seq 1 100); do [ -S "$d/munge/socket" ] && break; sleep 0.1; done
	[ -S "$d/munge/socket" ] || { nv_slurm_logs; nv_need "munged did not start"; }

	NV_SLURM_PARTITION=nvtest
	cat >"$d/slurm.conf" <<-EOF
	ClusterName=navette-test
	SlurmctldHost=$h(127.0.0.1)
	SlurmctldPort=$cport
	SlurmdPort=$dport
	SlurmUser=root
	SlurmdUser=root
	AuthType=auth/munge
	AuthInfo=socket=$d/munge/socket
	CredType=cred/munge
	StateSaveLocation=$d/state
	SlurmdSpoolDir=$d/spool
	SlurmctldPidFile=$d/slurmctld.pid
	SlurmdPidFile=$d/slurmd.pid
	SlurmctldLogFile=$d/log/slurmctld.log
	SlurmdLogFile=$d/log/slurmd.log
	ProctrackType=proctrack/linuxproc
	TaskPlugin=task/none
	JobAcctGatherType=jobacct_gather/none
	AccountingStorageType=accounting_storage/none
	JobCompType=jobcomp/none
	SelectType=select/cons_tres
	SelectTypeParameters=CR_Core
	SlurmdParameters=config_overrides
	ReturnToService=2
	MpiDefault=none
	MailProg=/bin/true
	KillWait=5
	NodeName=$h NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
	PartitionName=$NV_SLURM_PARTITION Nodes=$h Default=YES MaxTime=30 State=UP
	EOF
	export SLURM_CONF=$d/slurm.conf NV_SLURM_DIR NV_SLURM_PARTITION
	# in the foreground (-D), so that $! is the daemon to stop
	slurmctld -D -f "$SLURM_CONF" >"$d/log/slurmctld.out" 2>&1 &
	NV_SLURM_PIDS="$! $NV_SLURM_PIDS"
	nv_wait_port "$cport" 30 || { nv_slurm_logs; nv_need "slurmctld did not start"; }
	slurmd -D -f "$SLURM_CONF" >"$d/log/slurmd.out" 2>&1 &
	NV_SLURM_PIDS="$! $NV_SLURM_PIDS"
	for _ in $(seq 1 300); do
		[ "$(sinfo -h -o %t -p "$NV_SLURM_PARTITION" 2>/dev/null)" = idle ] && return 0
		sleep 0.1
	done
	sinfo -N -l >&2
	nv_slurm_logs >&2
	nv_need "slurmd did not register (node not idle)"
}
