#!/bin/sh
# Lab 6's solution: find the map, look at it, and delete h1's entry (h3's stays).
set -e
xdpdbg map list
xdpdbg map dump ws_blocklist
xdpdbg map delete ws_blocklist 198.18.0.1 || [ $? -eq 4 ] # 4: already deleted
xdpdbg map dump ws_blocklist
