#!/usr/bin/env bash
# Start or stop a single-node SLURM cluster on this machine (Debian's slurm-wlm, munge,
# no accounting), as described in shared/howto/local-slurm.md.
#   .ci/slurm.sh start   install if needed, write slurm.conf, start munged, slurmctld, slurmd
#   .ci/slurm.sh stop    stop exactly the daemons started here (by their pid files) and put
#                        back the slurm.conf found before (none: remove ours). A slurm.conf
#                        naming a stopped controller makes every later Snakemake start wait
#                        about 20 s: the SLURM executor plugin runs `scontrol show config`
#                        while Snakemake builds its command line, and scontrol retries.
set -euo pipefail
action=${1:?start or stop}
STATE=/run/litthemes-slurm
if [ "$action" = start ]; then
  if ! command -v slurmctld >/dev/null; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm >/dev/null
  fi
  HOST=$(hostname -s); CPUS=$(nproc)
  MEM=$(( $(free -m | awk '/^Mem:/{print $2}') * 9 / 10 ))
  mkdir -p /etc/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm /run/munge "$STATE"
  if [ -f /etc/slurm/slurm.conf ] && [ ! -f "$STATE/ours" ] && [ ! -f "$STATE/slurm.conf.before" ]; then
    cp /etc/slurm/slurm.conf "$STATE/slurm.conf.before"
  fi
  touch "$STATE/ours"
  cat > /etc/slurm/slurm.conf <<CONF
ClusterName=local
SlurmctldHost=${HOST}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
MinJobAge=300
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${MEM} State=UNKNOWN
PartitionName=debug Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
CONF
  chown munge:munge /run/munge
  [ -f /etc/munge/munge.key ] || /usr/sbin/mungekey --create 2>/dev/null || true
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  /usr/sbin/slurmctld
  /usr/sbin/slurmd
  for _ in $(seq 60); do
    state=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
    [ "$state" = idle ] && break
    sleep 1
  done
  sinfo
  [ "$(sinfo -h -o %T | head -1)" = idle ] || { echo "SLURM did not come up"; tail -20 /var/log/slurm/*.log; exit 1; }
elif [ "$action" = stop ]; then
  for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
    if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  if [ -f "$STATE/ours" ]; then
    if [ -f "$STATE/slurm.conf.before" ]; then
      mv "$STATE/slurm.conf.before" /etc/slurm/slurm.conf
    else
      rm -f /etc/slurm/slurm.conf
    fi
    rm -f "$STATE/ours"
  fi
else
  echo "usage: $0 start|stop" >&2; exit 2
fi
