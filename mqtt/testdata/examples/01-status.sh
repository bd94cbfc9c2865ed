mosquitto_sub -h "$HOST" -p "$PORT" -t "$ROOT/status" -C 1 -W 10
