#!/bin/bash
# Runs the documented Slurm job array (Docs/slurm/zoo-array.sbatch) and merge job
# (Docs/slurm/zoo-merge.sbatch) on a one-node Slurm cluster that this script starts and stops.
#
#   slurm-one-node.sh WORKDIR
#
# nfn must be on PATH; the ZOO_* variables the job scripts read are passed on to them (sbatch
# exports the environment). SLURM_TEST_TASKS (default 3) is the array size; the jobs get
# SLURM_TEST_JOB_TIMEOUT seconds (default 240) to finish. Afterwards
# WORKDIR/scratch/cnn-zoo/part-K are the shards, WORKDIR/work/cnn-zoo the merged zoo and
# WORKDIR/logs the jobs' output.
#
# Exit status: 0 = the jobs ran and succeeded; 77 = skipped: this machine cannot run the daemons
# (missing programs, munged/slurmctld/slurmd refusing to start, the node never becoming idle); the
# reason is the last line of stderr ("SKIP: …") and the file WORKDIR/skip-reason. Anything else
# is a failure. Every daemon started here is stopped on exit (also on SIGTERM from a test timeout)
# and the daemons' temporary folder is removed.
set -uo pipefail

workdir=${1:?usage: slurm-one-node.sh WORKDIR}
tasks=${SLURM_TEST_TASKS:-3}
repo=$(cd "$(dirname "$0")/../.." && pwd)
array_script=$repo/Docs/slurm/zoo-array.sbatch
merge_script=$repo/Docs/slurm/zoo-merge.sbatch
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)

log() { echo "slurm-one-node: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
skip() {
    echo "$*" > "$workdir/skip-reason"
    echo "SKIP: $*" >&2
    exit 77
}

for program in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
    command -v "$program" > /dev/null || skip "$program not found (Debian: apt-get install slurm-wlm munge)"
done
command -v nfn > /dev/null || fail "nfn is not on PATH"

# A short private folder for the daemons: munge's socket path must fit in sun_path (108 bytes),
# and munged refuses folders that other users can write to.
daemons=$(mktemp -d /tmp/nfn-slurm.XXXXXX) || skip "cannot create a temporary folder in /tmp"
chmod 700 "$daemons"
export SLURM_CONF=$daemons/slurm.conf   # for the daemons, the client commands and the jobs

pids=() job_ids=()
cleanup() {
    trap - EXIT INT TERM
    if [ -n "${controller_up:-}" ] && [ ${#job_ids[@]} -gt 0 ]; then
        scancel --quiet --full "${job_ids[@]}" 2> /dev/null
    fi
    # Daemons and job steps we started: the daemons by their ids, the job steps (slurmstepd and
    # the batch scripts, which slurmd detaches) by the SLURM_CONF they inherited from here.
    local stray=() pid
    for pid in /proc/[0-9]*; do
        pid=${pid#/proc/}
        [ "$pid" = "$$" ] && continue
        if tr '\0' '\n' 2> /dev/null < "/proc/$pid/environ" | grep -qxF "SLURM_CONF=$SLURM_CONF"; then
            stray+=("$pid")
        fi
    done
    local all=("${pids[@]}" "${stray[@]}")
    if [ ${#all[@]} -gt 0 ]; then
        kill -TERM "${all[@]}" 2> /dev/null
        local alive
        for _ in $(seq 50); do   # up to 5 s to exit, then SIGKILL
            alive=""
            for pid in "${all[@]}"; do kill -0 "$pid" 2> /dev/null && alive=1; done
            [ -n "$alive" ] || break
            sleep 0.1
        done
        [ -z "$alive" ] || kill -KILL "${all[@]}" 2> /dev/null
    fi
    rm -rf "$daemons"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 143' INT TERM

# Shows the end of a daemon's log when it did not come up.
tail_of() { [ -f "$1" ] && tail -n 5 "$1" | tr '\n' ' '; }

# Two free TCP ports: several engineers (or CI jobs) may run this test on one machine at once.
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 30000))
        (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null || { echo "$p"; return; }
    done
    return 1
}
ctld_port=$(free_port) && slurmd_port=$(free_port) || skip "no free TCP port"
[ "$ctld_port" != "$slurmd_port" ] || slurmd_port=$((ctld_port + 1))

user=$(id -un)
node=$(hostname -s)

# munge with a key of its own, so the system's munged (if any) and its key stay untouched.
dd if=/dev/urandom of="$daemons/munge.key" bs=1024 count=1 status=none && chmod 400 "$daemons/munge.key"
munged --foreground --force --key-file="$daemons/munge.key" --socket="$daemons/munge.socket" \
    --pid-file="$daemons/munged.pid" --log-file="$daemons/munged.log" --seed-file="$daemons/munged.seed" \
    > "$daemons/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$daemons/munge.socket" ] && break; kill -0 "${pids[0]}" 2> /dev/null || break; sleep 0.1; done
[ -S "$daemons/munge.socket" ] || skip "munged did not start: $(tail_of "$daemons/munged.out") $(tail_of "$daemons/munged.log")"

# The node as slurmd sees it (CPUs, sockets, cores, threads, memory), renamed to this host.
hardware=$(slurmd -C 2> /dev/null | head -n 1 | sed -E 's/^NodeName=[^ ]+ //') \
    && [ -n "$hardware" ] || skip "slurmd -C cannot describe this machine"
mkdir -p "$daemons/state" "$daemons/spool"
cat > "$SLURM_CONF" << CONF
ClusterName=nfntest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$daemons/munge.socket
StateSaveLocation=$daemons/state
SlurmdSpoolDir=$daemons/spool
SlurmctldPidFile=$daemons/slurmctld.pid
SlurmdPidFile=$daemons/slurmd.pid
SlurmctldLogFile=$daemons/slurmctld.log
SlurmdLogFile=$daemons/slurmd.log
PlugStackConfig=$daemons/plugstack.conf
# No systemd or cgroups needed: containers and CI machines rarely give slurmd a cgroup tree.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
# Start jobs as soon as they can run (by default batch jobs wait up to 3 s to be scheduled in bulk).
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
# A failed array cancels the merge job instead of leaving it pending for ever.
DependencyParameters=kill_invalid_depend
# Finished jobs stay visible to scontrol long enough to read their states.
MinJobAge=600
MailProg=/bin/true
NodeName=$node NodeAddr=127.0.0.1 $hardware State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
: > "$daemons/plugstack.conf"

slurmctld -D -c -i > "$daemons/slurmctld.out" 2>&1 &
pids+=($!)
controller_up=""
for _ in $(seq 100); do
    scontrol ping 2> /dev/null | grep -q "is UP" && { controller_up=1; break; }
    kill -0 "${pids[1]}" 2> /dev/null || break
    sleep 0.1
done
[ -n "$controller_up" ] || skip "slurmctld did not start: $(tail_of "$daemons/slurmctld.out") $(tail_of "$daemons/slurmctld.log")"

slurmd -D -N "$node" > "$daemons/slurmd.out" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 150); do
    state=$(sinfo -h -n "$node" -o %T 2> /dev/null)
    [ "$state" = idle ] && break
    kill -0 "${pids[2]}" 2> /dev/null || break
    sleep 0.2
done
[ "$state" = idle ] || skip "slurmd did not bring node $node to idle (state '${state:-none}'): $(tail_of "$daemons/slurmd.out") $(tail_of "$daemons/slurmd.log")"
log "one-node cluster up in ${SECONDS}s ($hardware)"

# The jobs: the documented scripts, unchanged; only the sizes differ (the array's size and one
# CPU per task on the command line, which overrides the #SBATCH lines; the zoo's from ZOO_*).
export SCRATCH=$workdir/scratch WORK=$workdir/work
mkdir -p "$SCRATCH" "$WORK" "$workdir/logs"
cd "$workdir/logs" || fail "cannot enter $workdir/logs"   # slurm-<job>_<task>.out land here
array_job=$(sbatch --parsable --array="0-$((tasks - 1))" --cpus-per-task=1 --time=00:10:00 "$array_script") \
    || fail "sbatch of the array was refused: $array_job"
array_job=${array_job%%;*}
job_ids+=("$array_job")
merge_job=$(sbatch --parsable --dependency="afterok:$array_job" --cpus-per-task=1 --time=00:10:00 "$merge_script") \
    || fail "sbatch of the merge job was refused: $merge_job"
merge_job=${merge_job%%;*}
job_ids+=("$merge_job")
log "submitted array job $array_job ($tasks tasks) and merge job $merge_job"

deadline=$((SECONDS + ${SLURM_TEST_JOB_TIMEOUT:-240}))
while [ -n "$(squeue -h -j "$array_job,$merge_job" -o %i 2> /dev/null)" ]; do
    [ $SECONDS -lt $deadline ] || { squeue -j "$array_job,$merge_job" >&2; fail "jobs still queued or running after the timeout"; }
    sleep 0.5
done

# Every array task and the merge job must be listed, and have completed with exit code 0.
ok=1 listed=0
while read -r line; do
    [ -n "$line" ] || continue
    listed=$((listed + 1))
    id=$(grep -o '^JobId=[0-9]*' <<< "$line"); task=$(grep -o 'ArrayTaskId=[0-9]*' <<< "$line")
    st=$(grep -o 'JobState=[A-Z_]*' <<< "$line"); code=$(grep -o 'ExitCode=[0-9:]*' <<< "$line")
    log "$id ${task:-} $st $code"
    [ "$st" = JobState=COMPLETED ] && [ "$code" = ExitCode=0:0 ] || ok=0
done <<< "$(scontrol show job -o "$array_job"; scontrol show job -o "$merge_job")"
if [ $ok = 0 ]; then
    for f in "$workdir"/logs/*; do log "--- $f"; cat "$f" >&2; done
    fail "a job did not complete"
fi
[ "$listed" = $((tasks + 1)) ] || fail "scontrol listed $listed jobs, not the $tasks array tasks and the merge job"
log "all $tasks array tasks and the merge job completed in ${SECONDS}s"
