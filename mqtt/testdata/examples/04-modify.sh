mosquitto_rr -h "$HOST" -p "$PORT" -q 1 -t "$ROOT/jobs/cmd" -e "$ROOT/jobs/res" -W 10 -m '{
  "id": "req-2", "op": "modify", "job_id": "pump-morning",
  "changes": {"name": "Water the beds, twice", "misfire_grace_time": null}, "expected_version": 1}'
