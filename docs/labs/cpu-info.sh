#!/usr/bin/env bash
# cpu-info.sh - the KVM chapter's script (section 2.2): how many logical CPUs, physical CPUs
# (packages), cores per package and threads per core a system has, from /proc/cpuinfo.
# Usage: cpu-info.sh [FILE]   (default /proc/cpuinfo; FILE may be a guest's serial output, e.g.
# jkvm's cpuinfo kernel with -append proc=1: its \r\n line ends and other lines are fine).
# Like the chapter's, it assumes all packages are identical.
set -u
info=${1:-/proc/cpuinfo}
[ -r "$info" ] || { echo "cpu-info.sh: cannot read $info" >&2; exit 1; }
# "key : value" lines of one field, without the serial line's carriage return
field() { tr -d '\r' <"$info" | grep "^$1[[:space:]]*:" | awk -F: '{gsub(/^ +| +$/, "", $2); print $2}'; }

echo -n "logical CPU number in total: "
field processor | wc -l

# a system without multi-core or hyper-threading has no "core id" lines
if [ -z "$(field 'core id')" ]; then
    echo "Warning. No multi-core or hyper-threading is enabled."
    exit 0
fi

echo -n "physical CPU number in total: "
field 'physical id' | sort -u | wc -l

echo -n "core number in a physical CPU: "
core_per_phy_cpu=$(field 'core id' | sort -u | wc -l)
echo "$core_per_phy_cpu"

echo -n "logical CPU number in a physical CPU: "
logical_cpu_per_phy_cpu=$(field siblings | sort -u | head -1)
echo "$logical_cpu_per_phy_cpu"

# two logical CPUs of one package with the same "core id" are hyper-threads of one core
if [ "$logical_cpu_per_phy_cpu" -gt "$core_per_phy_cpu" ]; then
    echo "Hyper threading is enabled. Each core has $((logical_cpu_per_phy_cpu / core_per_phy_cpu)) threads."
elif [ "$logical_cpu_per_phy_cpu" -eq "$core_per_phy_cpu" ]; then
    echo "Hyper threading is disabled."
else
    echo "Error. There's something wrong."
fi
