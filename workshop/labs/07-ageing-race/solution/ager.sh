#!/bin/sh
# Lab 7's solution: the ager, with the compare-and-swap half of the ageing protocol. It deletes the entries of the map ws_flows whose host has sent nothing for
# MAX_AGE_MS milliseconds, so the table only holds live hosts.
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
		# Delete only if last_seen still holds the stale time we read: the compare-and-swap
		# either claims the entry (it is then deleted) or finds the data plane refreshed it.
		if xdpdbg map delete "$MAP" "$host" --if last_seen="$seen" >/dev/null; then
			echo "aged out $host (last seen at $seen ms)"
		else
			status=$?
			[ "$status" -eq 3 ] || [ "$status" -eq 4 ] || exit "$status"
			echo "kept $host: refreshed after we read it"
		fi
	fi
done
