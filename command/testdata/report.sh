# Prints what a run sees, then exits with $EXIT_CODE (default 0).
echo "pwd=$(pwd)"
echo "greeting=$GREETING"
echo "job=$EDGECRON_JOB_ID"
echo "command=$EDGECRON_COMMAND"
echo "scheduled=$EDGECRON_SCHEDULED_TIME"
echo "path=$PATH"
echo "args=$*"
echo "to stderr" >&2
exit "${EXIT_CODE:-0}"
