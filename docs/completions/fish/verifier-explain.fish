complete -c verifier-explain -l prog -d 'Only this program' -r
complete -c verifier-explain -l log -d 'Explain this captured log instead of loading (`-` reads stdin)' -r -F
complete -c verifier-explain -l generate -d 'Print this command\'s man page (man) or a shell\'s completion script (complete-bash, complete-zsh, complete-fish) and exit' -r -f -a "man\t'The man page (roff, section 1)'
complete-bash\t'The bash completion script'
complete-zsh\t'The zsh completion function'
complete-fish\t'The fish completion script'"
complete -c verifier-explain -l print-log -d 'Also print the verifier\'s log: the verbose one of rejected programs, the statistics of accepted ones'
complete -c verifier-explain -l bpf-only -d 'Load with CAP_BPF only (CAP_PERFMON and CAP_SYS_ADMIN dropped), as a least-privilege service'
complete -c verifier-explain -l json -d 'Machine-readable output (schema: docs/verifier-explain.md)'
complete -c verifier-explain -s h -l help -d 'Print help (see more with \'--help\')'
complete -c verifier-explain -s V -l version -d 'Print version'
