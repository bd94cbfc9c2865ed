# Like hang.sh, but the shell and its children ignore SIGTERM: only SIGKILL ends them.
trap '' TERM
sh -c 'echo "$$"; exec sleep 1000' >"$FIFO" &
wait
