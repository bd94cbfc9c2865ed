# Leaves a background process behind (holding the fifo $FIFO and stdout) and
# exits 0 once the test writes to the fifo $GO.
sh -c 'echo "$$"; exec sleep 1000' >"$FIFO" &
read -r _ <"$GO"
echo "leaving"
exit 0
