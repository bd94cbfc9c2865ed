mosquitto_sub -h "$HOST" -p "$PORT" -t "$ROOT/jobs/pump-morning" -C 1 -W 10
