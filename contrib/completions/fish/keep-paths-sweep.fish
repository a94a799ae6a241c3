# fish completion for keep-paths-sweep
complete -c keep-paths-sweep -s h -l help -d 'Print help and exit'
complete -c keep-paths-sweep -s V -l version -d 'Print the version and exit'
complete -c keep-paths-sweep -s n -l dry-run -d 'Change nothing; say what would be deleted'
complete -c keep-paths-sweep -s v -l verbose -d 'Also list the sessions kept'
complete -c keep-paths-sweep -l config -r -F -d 'Read FILE after the system and user config'
complete -c keep-paths-sweep -l json -d 'One JSON object per entry, then a summary'
complete -c keep-paths-sweep -l min-age -x -a '0 30s 5m 10m 1h 1d' -d 'Never touch younger entries'
complete -c keep-paths-sweep -l self -x -a '(__fish_complete_directories)' -d "The caller's own session"
complete -c keep-paths-sweep -x -a '(__fish_complete_directories)'
