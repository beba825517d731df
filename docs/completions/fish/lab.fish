# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_lab_global_optspecs
    string join \n generate= h/help V/version
end

function __fish_lab_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_lab_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_lab_using_subcommand
    set -l cmd (__fish_lab_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c lab -n "__fish_lab_needs_command" -l generate -d 'Print this command\'s man page (man) or a shell\'s completion script (complete-bash, complete-zsh, complete-fish) and exit' -r -f -a "man\t'The man page (roff, section 1)'
complete-bash\t'The bash completion script'
complete-zsh\t'The zsh completion function'
complete-fish\t'The fish completion script'"
complete -c lab -n "__fish_lab_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c lab -n "__fish_lab_needs_command" -s V -l version -d 'Print version'
complete -c lab -n "__fish_lab_needs_command" -f -a "list" -d 'Every lab, with its time'
complete -c lab -n "__fish_lab_needs_command" -f -a "start" -d 'Copy lab N\'s starting files into its working folder and set up what it needs'
complete -c lab -n "__fish_lab_needs_command" -f -a "check" -d 'Tell whether lab N is solved, and what is still wrong when it is not'
complete -c lab -n "__fish_lab_needs_command" -f -a "solution" -d 'Print lab N\'s solution, or apply it'
complete -c lab -n "__fish_lab_needs_command" -f -a "down" -d 'Remove everything lab N created: namespaces, programs, processes (your files stay)'
complete -c lab -n "__fish_lab_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c lab -n "__fish_lab_using_subcommand list" -l json -d 'Machine-readable output'
complete -c lab -n "__fish_lab_using_subcommand list" -s h -l help -d 'Print help'
complete -c lab -n "__fish_lab_using_subcommand start" -l dir -d 'The working folder (default ./ebpf-workshop/labNN)' -r -F
complete -c lab -n "__fish_lab_using_subcommand start" -l reset -d 'Replace files you edited with the starting ones (yours are kept as *.mine)'
complete -c lab -n "__fish_lab_using_subcommand start" -s h -l help -d 'Print help'
complete -c lab -n "__fish_lab_using_subcommand check" -l dir -d 'The working folder given to `lab start`' -r -F
complete -c lab -n "__fish_lab_using_subcommand check" -l json -d 'Machine-readable output'
complete -c lab -n "__fish_lab_using_subcommand check" -s h -l help -d 'Print help'
complete -c lab -n "__fish_lab_using_subcommand solution" -l dir -d 'The working folder given to `lab start`' -r -F
complete -c lab -n "__fish_lab_using_subcommand solution" -l apply -d 'Write it into the working folder (yours kept as *.mine) and run its steps'
complete -c lab -n "__fish_lab_using_subcommand solution" -s h -l help -d 'Print help'
complete -c lab -n "__fish_lab_using_subcommand down" -l all -d 'Every lab'
complete -c lab -n "__fish_lab_using_subcommand down" -s h -l help -d 'Print help'
complete -c lab -n "__fish_lab_using_subcommand help; and not __fish_seen_subcommand_from list start check solution down help" -f -a "list" -d 'Every lab, with its time'
complete -c lab -n "__fish_lab_using_subcommand help; and not __fish_seen_subcommand_from list start check solution down help" -f -a "start" -d 'Copy lab N\'s starting files into its working folder and set up what it needs'
complete -c lab -n "__fish_lab_using_subcommand help; and not __fish_seen_subcommand_from list start check solution down help" -f -a "check" -d 'Tell whether lab N is solved, and what is still wrong when it is not'
complete -c lab -n "__fish_lab_using_subcommand help; and not __fish_seen_subcommand_from list start check solution down help" -f -a "solution" -d 'Print lab N\'s solution, or apply it'
complete -c lab -n "__fish_lab_using_subcommand help; and not __fish_seen_subcommand_from list start check solution down help" -f -a "down" -d 'Remove everything lab N created: namespaces, programs, processes (your files stay)'
complete -c lab -n "__fish_lab_using_subcommand help; and not __fish_seen_subcommand_from list start check solution down help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
