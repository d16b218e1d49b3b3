#!/bin/bash
# Command source for bench/compare.sh, shared by dynipd, ddclient and inadyn. Started through
# a symlink in an instance's directory: prints the address held in `addr` there and appends
# the time of the call to `calls` (one line per check). Bash builtins only, no fork, so the
# cost of a check stays small and the same for the three updaters.
dir=${0%/*}
printf '%s\n' "$EPOCHREALTIME" >>"$dir/calls"
read -r address <"$dir/addr"
printf '%s\n' "$address"
