# Starts a grandchild that writes its pid to the fifo $FIFO and keeps it open
# until it dies, then waits for it forever. Only killing the whole process
# group ends the grandchild, and with it the test's read of $FIFO.
sh -c 'echo "$$"; exec sleep 1000' >"$FIFO" &
wait
