# Holds a process slot: says "started" on the fifo $1, then waits for a line on the fifo $2.
echo started >"$1"
read -r _ <"$2"
echo "released"
