# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_switch_ctl_global_optspecs
    string join \n generate= h/help V/version
end

function __fish_switch_ctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_switch_ctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_switch_ctl_using_subcommand
    set -l cmd (__fish_switch_ctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c switch-ctl -n "__fish_switch_ctl_needs_command" -l generate -d 'Print this command\'s man page (man) or a shell\'s completion script (complete-bash, complete-zsh, complete-fish) and exit' -r -f -a "man\t'The man page (roff, section 1)'
complete-bash\t'The bash completion script'
complete-zsh\t'The zsh completion function'
complete-fish\t'The fish completion script'"
complete -c switch-ctl -n "__fish_switch_ctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c switch-ctl -n "__fish_switch_ctl_needs_command" -s V -l version -d 'Print version'
complete -c switch-ctl -n "__fish_switch_ctl_needs_command" -f -a "run" -d 'Run the daemon: accelerate the selected bridges and follow every change made to them with any tool, until SIGTERM or SIGINT (which detach everything)'
complete -c switch-ctl -n "__fish_switch_ctl_needs_command" -f -a "status" -d 'Show bridges, ports and their modes (and why), the fast path\'s FDB size and counters'
complete -c switch-ctl -n "__fish_switch_ctl_needs_command" -f -a "stop" -d 'Stop the daemon (it detaches everything), or remove the pinned fast path a killed daemon left behind'
complete -c switch-ctl -n "__fish_switch_ctl_needs_command" -f -a "check" -d 'Check that this machine can run the switch: privileges, bpffs, kernel, and that the kernel\'s verifier accepts the data plane'
complete -c switch-ctl -n "__fish_switch_ctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand run" -l bridge -d 'A bridge to accelerate (repeatable)' -r
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand run" -l default-mode -d 'The mode of ports without --mode' -r
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand run" -l mode -d 'One port\'s mode, PORT=MODE (repeatable)' -r
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand run" -l netns -d 'Serve this network namespace (a name from `ip netns list`) instead of the current one' -r
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand run" -l metrics -d 'Answer Prometheus scrapes (GET /metrics) on this address, bound in the namespace switch-ctl was started in (before --netns is entered), for example 127.0.0.1:9617' -r
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand run" -l fdb-entries -d 'How many MACs (all bridges together) the fast path holds; frames of MACs past that take the plain bridge. The map is preallocated: 96 bytes per entry (12.6 MB at the default)' -r
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand run" -l all-bridges -d 'Accelerate every bridge of the namespace, including bridges created later'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand run" -l allow-netfilter -d 'Accelerate bridges even when bridge netfilter is active (firewall rules on bridged traffic are then bypassed)'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand run" -s h -l help -d 'Print help'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand status" -l netns -d 'The network namespace whose daemon to ask' -r
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand status" -l json -d 'Machine-readable output'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand status" -s h -l help -d 'Print help'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand stop" -l netns -d 'The network namespace whose daemon to stop' -r
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand stop" -s h -l help -d 'Print help'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand check" -l json -d 'Machine-readable output'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand check" -s h -l help -d 'Print help'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand help; and not __fish_seen_subcommand_from run status stop check help" -f -a "run" -d 'Run the daemon: accelerate the selected bridges and follow every change made to them with any tool, until SIGTERM or SIGINT (which detach everything)'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand help; and not __fish_seen_subcommand_from run status stop check help" -f -a "status" -d 'Show bridges, ports and their modes (and why), the fast path\'s FDB size and counters'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand help; and not __fish_seen_subcommand_from run status stop check help" -f -a "stop" -d 'Stop the daemon (it detaches everything), or remove the pinned fast path a killed daemon left behind'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand help; and not __fish_seen_subcommand_from run status stop check help" -f -a "check" -d 'Check that this machine can run the switch: privileges, bpffs, kernel, and that the kernel\'s verifier accepts the data plane'
complete -c switch-ctl -n "__fish_switch_ctl_using_subcommand help; and not __fish_seen_subcommand_from run status stop check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
