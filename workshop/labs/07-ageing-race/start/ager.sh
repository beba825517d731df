#!/bin/sh
# Lab 7: the ager. It deletes the entries of the map ws_flows whose host has sent nothing for
# MAX_AGE_MS milliseconds, so the table only holds live hosts.
#
# Run it as `sh ager.sh` while hosts send traffic. Then run `lab check 7`: the checker runs it
# under a stress and tells you whether it ever deletes an entry that was just refreshed.
MAP=ws_flows
MAX_AGE_MS=${MAX_AGE_MS:-1000}
HOSTS=${HOSTS:-"198.18.0.1 198.18.0.2 198.18.0.3 198.18.0.4"}

# ms since boot, the clock the data plane writes into last_seen
now_ms=$(cut -d' ' -f1 /proc/uptime | tr -d .)0
stale_before=$((now_ms - MAX_AGE_MS))

for host in $HOSTS; do
	seen=$(xdpdbg map get "$MAP" "$host" --json | tr -d ' \n' | sed -n 's/.*"last_seen":\([0-9]*\).*/\1/p')
	[ -n "$seen" ] || continue # no entry for this host
	if [ "$seen" -lt "$stale_before" ]; then
		xdpdbg map delete "$MAP" "$host" >/dev/null
		echo "aged out $host (last seen at $seen ms)"
	fi
done
