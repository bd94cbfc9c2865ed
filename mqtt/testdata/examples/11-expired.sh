mosquitto_rr -h "$HOST" -p "$PORT" -q 1 -t "$ROOT/jobs/cmd" -e "$ROOT/jobs/res" -W 10 -m '{
  "id": "req-8", "op": "list", "expires_at": "2020-01-01T00:00:00Z"}'
