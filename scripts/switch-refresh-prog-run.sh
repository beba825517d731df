#!/bin/sh
# BPF_PROG_RUN microbenchmark of switch_xdp's decision with N source MACs in the FDB map,
# comparing refresh_ms = 75,000 (refresh logic on every frame) with 0 (none). Run as root from
# the repository's root, under `flock /tmp/xdp-toolkit-privileged.lock`; it runs inside
# `unshare -m -n` with its own bpffs (ingress ifindex 1 is that namespace's lo), so nothing
# outlives it. Usage: $0 [N...] (default 1 1000 100000, ascending: each N keeps the previous N's
# entries); SWITCH_PROG_RUN_SRC: another switch-ebpf/bpf directory (to compare a version),
# SWITCH_PROG_RUN_REPEAT: frames per run (default 2,000,000), SWITCH_PROG_RUN_NO_PAIR_CACHE=1:
# measure the full decision (the per-CPU pair cache never hits; the same frame repeats, so it
# would hit on every frame but the first).
# The object is compiled here without switch_xdp_frags, which bpftool 7.1's libbpf does not load.
# The devmap stays empty, so a forwarded frame ends in XDP_PASS after bpf_redirect_map: the
# figures are the decision (port, FDB and clock lookups) plus bpf_redirect_map's miss, hot cache.
# docs/benchmarks.md (Switch forwarding) has the results.
set -eu
src=${SWITCH_PROG_RUN_SRC:-switch-ebpf/bpf}
[ $# -gt 0 ] || set -- 1 1000 100000
build=$(mktemp -d)
trap 'rm -rf $build' EXIT
python3 - "$src/switch.bpf.c" $build/switch.bpf.c "${SWITCH_PROG_RUN_NO_PAIR_CACHE:-0}" <<'PY'
import re, sys
source = open(sys.argv[1]).read()
source = re.sub(r'/\* Any MTU.*?\n}\n', '', source, flags=re.S)
if sys.argv[3] == '1':
    source = source.replace('if (pair->generation == generation &&', 'if (0 && pair->generation == generation &&')
    assert 'if (0 && pair' in source
open(sys.argv[2], 'w').write(source)
PY
clang -O2 -g -target bpf -Wall -Werror -I/usr/include/$(gcc -print-multiarch) -I"$src" \
	-I"$src/../../bpf-maps/include" -c $build/switch.bpf.c -o $build/switch.bpf.o
obj=$build/switch.bpf.o
repeat=${SWITCH_PROG_RUN_REPEAT:-2000000}
unshare -m -n sh -s "$obj" "$repeat" "$@" <<'INNER'
set -eu
obj=$1 repeat=$2; shift 2
ip link set lo up
mount --make-rprivate /
mount -t bpf bpf /sys/fs/bpf
pin=/sys/fs/bpf/switch-refresh-bench
trap 'rm -rf $pin' EXIT
mkdir -p $pin
bpftool prog loadall "$obj" $pin/progs pinmaps $pin/maps
bpftool map show pinned $pin/maps/fdb | sed 's/^/fdb map: /'
tmp=$(mktemp -d); trap 'rm -rf $pin $tmp' EXIT
# frame: dst 02:00:00:ff:ff:ff, src 02:00:00:00:00:01 (the first of the N sources), IPv4/UDP
printf '\002\000\000\377\377\377\002\000\000\000\000\001\010\000' > $tmp/frame
head -c 46 /dev/zero >> $tmp/frame
# xdp_md: data 0, data_end 60, data_meta 0, ingress_ifindex 1, rx_queue 0, egress 0
printf '\000\000\000\000\074\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\000\000\000\000' > $tmp/ctx
hexle32() { printf '%02x %02x %02x %02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
for n in "$@"; do
  bpftool map delete pinned $pin/maps/fdb key hex 01 00 00 00 02 00 00 ff ff ff 00 00 2>/dev/null || true
  # n sources on port 1, last passed "now-ish" is not needed: the first frame refreshes once.
  i=1; : > $tmp/batch
  while [ $i -le $n ]; do
    echo "map update pinned $pin/maps/fdb key hex 01 00 00 00 02 00 00 $(printf '%02x %02x %02x' $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255))) 00 00 value hex 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00" >> $tmp/batch
    i=$((i + 1))
  done
  echo "map update pinned $pin/maps/fdb key hex 01 00 00 00 02 00 00 ff ff ff 00 00 value hex 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00" >> $tmp/batch
  bpftool batch file $tmp/batch > /dev/null
  for refresh in 75000 0; do
    # port 1: bridge 1, forwarding|up|hairpin|xdp_xmit|egress, slot 0, refresh_ms
    bpftool map update pinned $pin/maps/ports key hex 01 00 00 00 value hex 01 00 00 00 67 00 00 00 00 00 00 00 $(hexle32 $refresh)
    for k in 1 2 3; do
      d=$(bpftool prog run pinned $pin/progs/switch_xdp data_in $tmp/frame ctx_in $tmp/ctx repeat $repeat | sed -n 's/.*duration (average): \([0-9]*\)ns.*/\1/p')
      echo "macs=$n refresh_ms=$refresh run=$k ns_per_frame=$d"
    done
  done
done
# where the frames went: slot 0's counters (fast_packets stays 0: the empty devmap makes the
# forwarded frames PASS_EGRESS_STATE, passed[8]; one PASS_REFRESH, passed[9], per N at 75 s)
bpftool -j map lookup pinned $pin/maps/counters key hex 00 00 00 00 |
	python3 -c 'import json, sys; [print("cpu", v["cpu"], v["value"]) for v in json.load(sys.stdin)["formatted"]["values"]]'
INNER
