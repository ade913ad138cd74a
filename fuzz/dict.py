"""Prints a libFuzzer dictionary for the `agree` target: every member name, `const` and `enum`
string of schemas/*.json, as JSON strings. Usage: python3 fuzz/dict.py > fuzz/target/agree.dict"""

import glob
import json
import os

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schemas")
tokens = set()


def walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                tokens.update(value.keys())
            if key in ("const", "enum"):
                for v in value if isinstance(value, list) else [value]:
                    if isinstance(v, str):
                        tokens.add(v)
            walk(value)
    elif isinstance(node, list):
        for item in node:
            walk(item)


for path in sorted(glob.glob(os.path.join(root, "*.json"))):
    with open(path) as f:
        walk(json.load(f))
for token in sorted(tokens):
    # libFuzzer's dictionary syntax: a quoted string with \\ and \" escapes.
    print(json.dumps(json.dumps(token)))
