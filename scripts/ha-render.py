#!/usr/bin/env python3
"""Render every template of edgecron's Home Assistant discovery configs the
way Home Assistant does, and check what they render to.

    python3 scripts/ha-render.py mqtt/testdata/ha

The directory holds discovery.json (every config the agent announced) and
states.json (the payloads of the topics those configs read), both captured
from the broker by mqtt's TestHomeAssistantGolden, and expect.json, written
by hand: per entity ("<component>/<object>"), per template key, the string
it must render to; a command template lists its cases, each with the
variables Home Assistant passes (value, brightness...) and the output.

Home Assistant renders MQTT templates with Jinja2's
ImmutableSandboxedEnvironment; a state template gets `value` (the payload)
and, when the payload is JSON, `value_json` (it decoded). Undefined names
render empty, as in Home Assistant, so a template that reads a missing key
(value_json.values is the dict's values method, not the "values" key)
renders "" and fails its expectation. Every template must have an
expectation and every expectation a template.
"""

import json
import os
import re
import sys

from jinja2.sandbox import ImmutableSandboxedEnvironment

# Template keys that read a state payload, and the key naming its topic.
STATE_TEMPLATES = {
    "value_template": "state_topic",
    "state_value_template": "state_topic",
    "state_template": "state_topic",
    "brightness_template": "state_topic",
    "percentage_value_template": "percentage_state_topic",
}
# Template keys that build a command from what Home Assistant passes.
COMMAND_TEMPLATES = {
    "command_template",
    "command_on_template",
    "command_off_template",
    "percentage_command_template",
}
# Home Assistant's entity id (homeassistant.core.valid_entity_id).
ENTITY_ID = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$")
# What every config carries.
REQUIRED = ["unique_id", "default_entity_id", "availability_topic", "device", "name"]


def main(directory):
    def load(name):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            return json.load(f)

    discovery, states, expect = load("discovery.json"), load("states.json"), load("expect.json")
    env = ImmutableSandboxedEnvironment()
    failures, rendered = [], 0
    seen = set()
    for topic, config in sorted(discovery.items()):
        _, component, _, obj, _ = topic.split("/")
        entity = component + "/" + obj
        seen.add(entity)
        want = expect.get(entity)
        if want is None:
            failures.append(f"{entity}: no expectation in expect.json")
            continue
        for key in REQUIRED:
            if key not in config:
                failures.append(f"{entity}: no {key}")
        if not ENTITY_ID.match(config.get("default_entity_id", "")) or not config["default_entity_id"].startswith(component + "."):
            failures.append(f"{entity}: default_entity_id {config.get('default_entity_id')!r} is not a {component} entity id")
        keys = [k for k in config if k in STATE_TEMPLATES or k in COMMAND_TEMPLATES]
        for key in sorted(set(keys) | set(want)):
            if key not in config:
                failures.append(f"{entity}: expect.json has {key}, the config has not")
                continue
            if key not in want:
                failures.append(f"{entity}: {key} has no expectation in expect.json")
                continue
            template = env.from_string(config[key])
            if key in STATE_TEMPLATES:
                state_topic = config.get(STATE_TEMPLATES[key])
                if state_topic not in states:
                    failures.append(f"{entity}: {key} reads {state_topic}, of which no payload was captured")
                    continue
                payload = states[state_topic]
                variables = {"value": payload}
                try:
                    variables["value_json"] = json.loads(payload)
                except ValueError:
                    pass
                cases = [(variables, want[key])]
            else:
                cases = [({k: v for k, v in case.items() if k != "want"}, case["want"]) for case in want[key]]
            for variables, expected in cases:
                try:
                    got = template.render(**variables)
                except Exception as e:  # a template error is a failure, never a crash
                    failures.append(f"{entity}: {key} with {variables}: {type(e).__name__}: {e}")
                    continue
                rendered += 1
                if got != expected:
                    failures.append(f"{entity}: {key} rendered {got!r}, want {expected!r} (template {config[key]!r})")
    for entity in sorted(set(expect) - seen):
        failures.append(f"{entity}: in expect.json but not announced")
    if failures:
        print("Home Assistant template render check FAILED:", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        return 1
    print(f"Home Assistant templates: {rendered} renders of {len(discovery)} discovery configs as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "mqtt/testdata/ha"))
