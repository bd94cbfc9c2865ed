# Writes 2000 numbered lines of 50 bytes (100000 bytes) to stdout and 3 to stderr.
i=1000
while [ $i -lt 3000 ]; do
	echo "line $i ......................................."
	i=$((i + 1))
done
echo "err 1" >&2; echo "err 2" >&2; echo "err 3" >&2
