#!/usr/bin/env python3
"""Validate captured responses and events against contracts/legacy-api.yaml.

Input: a JSON file with {"responses": [{"side", "label", "method", "path",
"status", "body"}], "events": [{"side", "channel", "name", "data"}]} where
`body`/`data` are the exact texts. Every response must match a documented
path + method + status and its schema (2xx with a body too); every event must
be one of `x-events` with a valid payload. Exit 1 with one line per failure.

Needs PyYAML and jsonschema (contracts/requirements.txt).
"""
import json
import re
import sys

import jsonschema
import yaml

CONTRACT = __file__.rsplit('/', 1)[0] + '/legacy-api.yaml'


def load():
    with open(CONTRACT) as f:
        return yaml.safe_load(f)


def deref(doc, obj):
    while isinstance(obj, dict) and '$ref' in obj and obj['$ref'].startswith('#/'):
        node = doc
        for part in obj['$ref'][2:].split('/'):
            node = node[part]
        obj = node
    return obj


def validator(doc, schema):
    root = dict(schema)
    root['components'] = doc['components']
    return jsonschema.Draft202012Validator(root)


def path_regex(template):
    return re.compile('^' + re.sub(r'\{[^}]+\}', '[^/]+', template) + '$')


def main(capture_file):
    doc = load()
    with open(capture_file) as f:
        capture = json.load(f)
    routes = [(path_regex(p), p, item) for p, item in doc['paths'].items()]
    failures = []
    for r in capture['responses']:
        where = f"{r['side']} {r['label']!r} {r['method']} {r['path']} -> {r['status']}"
        path = r['path'].split('?', 1)[0]
        match = [(t, item) for rx, t, item in routes if rx.match(path)]
        if not match:
            failures.append(f'{where}: path not in the contract')
            continue
        template, item = match[0]
        op = item.get(r['method'].lower())
        if op is None:
            failures.append(f'{where}: method not in the contract for {template}')
            continue
        resp = deref(doc, op['responses'].get(str(r['status'])))
        if resp is None:
            failures.append(f'{where}: status not documented for {r["method"]} {template}')
            continue
        content = resp.get('content')
        if not content:
            if r['body']:
                failures.append(f'{where}: body where the contract has none')
            continue
        schema = content['application/json']['schema']
        try:
            body = json.loads(r['body'])
        except ValueError:
            failures.append(f'{where}: body is not JSON')
            continue
        for err in validator(doc, schema).iter_errors(body):
            failures.append(f'{where}: {err.json_path}: {err.message}')
    events = doc['x-events']
    for e in capture['events']:
        where = f"{e['side']} event {e['name']} on {e['channel']}"
        spec = [x for x in events if x['name'] == e['name']
                and e['channel'].startswith(x['channel'].split('{', 1)[0])]
        if not spec:
            failures.append(f'{where}: not in x-events')
            continue
        schema = {'$ref': spec[0]['payload']}
        for err in validator(doc, schema).iter_errors(json.loads(e['data'])):
            failures.append(f'{where}: {err.json_path}: {err.message}')
    for line in failures:
        print(line)
    n = len(capture['responses'])
    print(f'{n} responses and {len(capture["events"])} events checked, {len(failures)} failure(s)')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
