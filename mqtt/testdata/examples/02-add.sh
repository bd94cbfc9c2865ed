mosquitto_rr -h "$HOST" -p "$PORT" -q 1 -t "$ROOT/jobs/cmd" -e "$ROOT/jobs/res" -W 10 -m '{
  "id": "req-1", "op": "add",
  "job": {"id": "pump-morning", "name": "Water the beds",
          "trigger": {"type": "interval", "hours": 6},
          "action": {"type": "actuate", "actuator": "pump", "command": "pulse", "duration": "30s"}}}'
