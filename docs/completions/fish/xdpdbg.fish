# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_xdpdbg_global_optspecs
    string join \n generate= h/help V/version
end

function __fish_xdpdbg_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_xdpdbg_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_xdpdbg_using_subcommand
    set -l cmd (__fish_xdpdbg_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c xdpdbg -n "__fish_xdpdbg_needs_command" -l generate -d 'Print this command\'s man page (man) or a shell\'s completion script (complete-bash, complete-zsh, complete-fish) and exit' -r -f -a "man\t'The man page (roff, section 1)'
complete-bash\t'The bash completion script'
complete-zsh\t'The zsh completion function'
complete-fish\t'The fish completion script'"
complete -c xdpdbg -n "__fish_xdpdbg_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xdpdbg -n "__fish_xdpdbg_needs_command" -s V -l version -d 'Print version'
complete -c xdpdbg -n "__fish_xdpdbg_needs_command" -f -a "doctor" -d 'Check this machine: kernel features, capabilities, bpffs, tools'
complete -c xdpdbg -n "__fish_xdpdbg_needs_command" -f -a "explain" -d 'Explore a verifier rejection at source level: instructions, source, registers as variables'
complete -c xdpdbg -n "__fish_xdpdbg_needs_command" -f -a "lab" -d 'Build, use and remove network labs (hosts around a Linux bridge, in namespaces)'
complete -c xdpdbg -n "__fish_xdpdbg_needs_command" -f -a "map" -d 'Inspect and change maps: list, dump, get/set/delete, cas, snapshot, diff, watch'
complete -c xdpdbg -n "__fish_xdpdbg_needs_command" -f -a "top" -d 'Every loaded eBPF program live (CPU %, runs/s, ns/run) and profiles down to source lines'
complete -c xdpdbg -n "__fish_xdpdbg_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand doctor" -l json -d 'Machine-readable output'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand doctor" -l fix -d 'Repair what can be repaired here (mount bpffs at /sys/fs/bpf), then check'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand explain" -l prog -d 'Only this program' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand explain" -l log -d 'Explain this captured verifier log instead of loading (`-` reads stdin)' -r -F
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand explain" -l keys -d 'Keys to play headless, separated by spaces (quotes group; `text:...` types, `wait:MS` waits): up down enter esc tab / q ? and letters' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand explain" -l size -d 'Screen size, headless' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand explain" -l frames-out -d 'Headless: write every screen (one per key) to this file instead of printing the last' -r -F
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand explain" -l screenshot -d 'Headless: also write the last screen, in color, as an SVG picture to this file' -r -F
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand explain" -l bpf-only -d 'Load with CAP_BPF only (CAP_PERFMON and CAP_SYS_ADMIN dropped), as a least-privilege service'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand explain" -l json -d 'Print the report as JSON (the schema of verifier-explain --json) instead of exploring'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand explain" -l headless -d 'Play --keys on an in-memory screen and print the last screen as text (for tests, demos and docs)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand explain" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and not __fish_seen_subcommand_from up exec down list help" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and not __fish_seen_subcommand_from up exec down list help" -f -a "up" -d 'Build a lab: N hosts (h1, h2, ...) wired to a bridge in a switch namespace (sw)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and not __fish_seen_subcommand_from up exec down list help" -f -a "exec" -d 'Run a command inside a lab node (h1, h2, ..., or sw for the switch)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and not __fish_seen_subcommand_from up exec down list help" -f -a "down" -d 'Remove a lab (or all of them, or those whose owner died)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and not __fish_seen_subcommand_from up exec down list help" -f -a "list" -d 'List the labs on this machine'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and not __fish_seen_subcommand_from up exec down list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from up" -l name -d 'Name of the lab (namespaces become xl-NAME-sw, xl-NAME-h1, ...); generated if absent' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from up" -l hosts -d 'Number of hosts' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from up" -l bridge -d 'Name of the bridge in the switch namespace' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from up" -l mtu -d 'MTU of every link and of the bridge' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from up" -l bridge-nf-call -d 'Set net.bridge.bridge-nf-call-* in the switch namespace (default: the kernel\'s)' -r -f -a "true\t''
false\t''"
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from up" -l no-ipv6 -d 'Give hosts no IPv6 addresses'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from up" -l bridge-address -d 'Give the bridge the address 198.18.0.254 (host name `sw`)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from up" -l hold -d 'Keep the lab only while this command runs: Ctrl-C (or SIGTERM) tears it down'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from up" -l json -d 'Machine-readable output'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from up" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from exec" -l lab -d 'The lab (needed only when there is more than one)' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from exec" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from down" -l all -d 'Remove every lab, and namespaces left by labs whose state was lost'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from down" -l stale -d 'Remove labs whose owning process died without tearing them down'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from down" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from list" -l json -d 'Machine-readable output'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "up" -d 'Build a lab: N hosts (h1, h2, ...) wired to a bridge in a switch namespace (sw)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "exec" -d 'Run a command inside a lab node (h1, h2, ..., or sw for the switch)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "down" -d 'Remove a lab (or all of them, or those whose owner died)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the labs on this machine'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and not __fish_seen_subcommand_from list dump get set delete cas snapshot diff watch tui help" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and not __fish_seen_subcommand_from list dump get set delete cas snapshot diff watch tui help" -f -a "list" -d 'Every map on the system: type, sizes, entries, memory, holders, pins'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and not __fish_seen_subcommand_from list dump get set delete cas snapshot diff watch tui help" -f -a "dump" -d 'Every entry, decoded with the map\'s BTF'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and not __fish_seen_subcommand_from list dump get set delete cas snapshot diff watch tui help" -f -a "get" -d 'One entry'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and not __fish_seen_subcommand_from list dump get set delete cas snapshot diff watch tui help" -f -a "set" -d 'Create or change one entry (checked against the BTF before writing)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and not __fish_seen_subcommand_from list dump get set delete cas snapshot diff watch tui help" -f -a "delete" -d 'Delete one entry, optionally only if a field still holds a value'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and not __fish_seen_subcommand_from list dump get set delete cas snapshot diff watch tui help" -f -a "cas" -d 'Compare-and-swap one field, atomically against eBPF writers'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and not __fish_seen_subcommand_from list dump get set delete cas snapshot diff watch tui help" -f -a "snapshot" -d 'Save the map to a file (JSON or compact binary) for `map diff`'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and not __fish_seen_subcommand_from list dump get set delete cas snapshot diff watch tui help" -f -a "diff" -d 'Compare two snapshots, or a snapshot with the live map'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and not __fish_seen_subcommand_from list dump get set delete cas snapshot diff watch tui help" -f -a "watch" -d 'Live view of entries added, removed and changed, with rates'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and not __fish_seen_subcommand_from list dump get set delete cas snapshot diff watch tui help" -f -a "tui" -d 'The interactive browser (what `xdpdbg map` alone opens), with a headless mode'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and not __fish_seen_subcommand_from list dump get set delete cas snapshot diff watch tui help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from list" -l json -d 'Machine-readable output'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from dump" -l where -d 'Only entries matching this filter (repeatable: all must match)' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from dump" -l per-cpu -d 'Show each CPU\'s copy of per-CPU values too'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from dump" -l json -d 'Machine-readable output'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from dump" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from get" -l per-cpu -d 'Show each CPU\'s copy of a per-CPU value too'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from get" -l json -d 'Machine-readable output'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from set" -l if -d 'Write only if FIELD still holds VALUE, atomically (values holding a bpf_spin_lock)' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from set" -l create -d 'Fail if the key exists'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from set" -l replace -d 'Fail if the key does not exist'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from set" -l json -d 'Machine-readable output'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from delete" -l if -d 'Delete only if FIELD still holds VALUE' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from delete" -l tombstone -d 'The marker written into FIELD before the delete (default: all ones)' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from delete" -l json -d 'Machine-readable output'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from cas" -l json -d 'Machine-readable output'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from cas" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from snapshot" -s o -l output -d 'Where to write it (default: JSON on standard output)' -r -F
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from snapshot" -l format -d 'File format' -r -f -a "json\t''
binary\t''"
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from snapshot" -l consistent -d 'Whole-map consistent snapshot through an outer map of bpf_maps/snapshot.h (swap and read)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from snapshot" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from diff" -l json -d 'Machine-readable output'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from watch" -l interval -d 'Time between readings (ms, s, m suffixes)' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from watch" -l count -d 'Stop after this many readings' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from watch" -l json -d 'One JSON object per reading, one per line'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from watch" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from tui" -l refresh -d 'Refresh period in milliseconds' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from tui" -l keys -d 'Keys to play headless, separated by spaces (quotes group; `text:...` types, `wait:MS` waits): up down enter esc tab / q ? and letters' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from tui" -l size -d 'Screen size, headless' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from tui" -l frames-out -d 'Headless: write every screen (one per key) to this file instead of printing the last' -r -F
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from tui" -l screenshot -d 'Headless: also write the last screen, in color, as an SVG picture to this file' -r -F
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from tui" -l headless -d 'Play --keys on an in-memory screen and print the last screen as text (for tests, demos and docs)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from tui" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from help" -f -a "list" -d 'Every map on the system: type, sizes, entries, memory, holders, pins'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from help" -f -a "dump" -d 'Every entry, decoded with the map\'s BTF'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from help" -f -a "get" -d 'One entry'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from help" -f -a "set" -d 'Create or change one entry (checked against the BTF before writing)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete one entry, optionally only if a field still holds a value'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from help" -f -a "cas" -d 'Compare-and-swap one field, atomically against eBPF writers'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from help" -f -a "snapshot" -d 'Save the map to a file (JSON or compact binary) for `map diff`'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Compare two snapshots, or a snapshot with the live map'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from help" -f -a "watch" -d 'Live view of entries added, removed and changed, with rates'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from help" -f -a "tui" -d 'The interactive browser (what `xdpdbg map` alone opens), with a headless mode'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand map; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l prog -d 'Profile this program (id or name): the screen opens on its profile; --duration and --flamegraph profile it alone' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l duration -d 'Sample this long, then print the profile (--json: the ProfileReport schema); with --prometheus or --flamegraph, how long to run' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l flamegraph -d 'Write a flame graph (program;subprogram;line;helper) of --duration of samples (5s unless given) to this SVG file' -r -F
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l prometheus -d 'Serve per-program and per-line metrics in the Prometheus text format on this address (`127.0.0.1:9464`; port 0 picks one, printed on stderr) until interrupted or --duration' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l interval -d 'Refresh period (and the interval of --once): 1s, 500ms...' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l frequency -d 'Samples per second per CPU' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l keys -d 'Keys to play headless, separated by spaces (quotes group; `text:...` types, `wait:MS` waits): up down enter esc tab / q ? and letters' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l size -d 'Screen size, headless' -r
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l frames-out -d 'Headless: write every screen (one per key) to this file instead of printing the last' -r -F
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l screenshot -d 'Headless: also write the last screen, in color, as an SVG picture to this file' -r -F
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l stats -d 'Run-time statistics on while the tool runs (BPF_ENABLE_STATS): exact run counts and ns per run, at a cost on every run of every program (3-33 ns measured here); without it CPU % comes from perf samples, at no cost per run'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l once -d 'One refresh of the table (two readings --interval apart), printed, then exit'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l json -d 'Print JSON (with --once or --duration)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -l headless -d 'Play --keys on an in-memory screen and print the last screen as text (for tests, demos and docs)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand top" -s h -l help -d 'Print help'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and not __fish_seen_subcommand_from doctor explain lab map top help" -f -a "doctor" -d 'Check this machine: kernel features, capabilities, bpffs, tools'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and not __fish_seen_subcommand_from doctor explain lab map top help" -f -a "explain" -d 'Explore a verifier rejection at source level: instructions, source, registers as variables'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and not __fish_seen_subcommand_from doctor explain lab map top help" -f -a "lab" -d 'Build, use and remove network labs (hosts around a Linux bridge, in namespaces)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and not __fish_seen_subcommand_from doctor explain lab map top help" -f -a "map" -d 'Inspect and change maps: list, dump, get/set/delete, cas, snapshot, diff, watch'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and not __fish_seen_subcommand_from doctor explain lab map top help" -f -a "top" -d 'Every loaded eBPF program live (CPU %, runs/s, ns/run) and profiles down to source lines'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and not __fish_seen_subcommand_from doctor explain lab map top help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "up" -d 'Build a lab: N hosts (h1, h2, ...) wired to a bridge in a switch namespace (sw)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "exec" -d 'Run a command inside a lab node (h1, h2, ..., or sw for the switch)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "down" -d 'Remove a lab (or all of them, or those whose owner died)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "list" -d 'List the labs on this machine'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from map" -f -a "list" -d 'Every map on the system: type, sizes, entries, memory, holders, pins'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from map" -f -a "dump" -d 'Every entry, decoded with the map\'s BTF'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from map" -f -a "get" -d 'One entry'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from map" -f -a "set" -d 'Create or change one entry (checked against the BTF before writing)'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from map" -f -a "delete" -d 'Delete one entry, optionally only if a field still holds a value'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from map" -f -a "cas" -d 'Compare-and-swap one field, atomically against eBPF writers'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from map" -f -a "snapshot" -d 'Save the map to a file (JSON or compact binary) for `map diff`'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from map" -f -a "diff" -d 'Compare two snapshots, or a snapshot with the live map'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from map" -f -a "watch" -d 'Live view of entries added, removed and changed, with rates'
complete -c xdpdbg -n "__fish_xdpdbg_using_subcommand help; and __fish_seen_subcommand_from map" -f -a "tui" -d 'The interactive browser (what `xdpdbg map` alone opens), with a headless mode'
