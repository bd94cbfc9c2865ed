# Fails the way a real script does: a message on stderr and a non-zero code.
echo "checking disk"
echo "backup: first warning" >&2
echo "backup: disk full" >&2
exit 3
