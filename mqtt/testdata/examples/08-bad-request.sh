mosquitto_rr -h "$HOST" -p "$PORT" -q 1 -t "$ROOT/jobs/cmd" -e "$ROOT/jobs/res" -W 10 -m '{
  "id": "req-5", "op": "pause", "job_id": "pump-morning", "colour": "red"}'
