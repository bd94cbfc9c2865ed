mosquitto_rr -h "$HOST" -p "$PORT" -q 1 -t "$ROOT/jobs/cmd" -e "$ROOT/jobs/res" -W 10 -m '{
  "id": "req-4", "op": "reschedule", "job_id": "pump-morning",
  "trigger": {"type": "date", "run_date": "2026-11-22T06:30:00Z"}}'
