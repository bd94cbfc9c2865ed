mosquitto_pub -h "$HOST" -p "$PORT" -q 1 -t "$ROOT/actuators/pump/set" -m 'ON'
mosquitto_sub -h "$HOST" -p "$PORT" -t "$ROOT/actuators/pump/state" -C 1 -W 10
