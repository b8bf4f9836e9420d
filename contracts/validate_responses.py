#!/usr/bin/env python3
"""Validate captured responses and events against contracts/legacy-api.yaml.

Usage: validate_responses.py CAPTURE.json

Input: a JSON file with {"responses": [{"side", "label", "method", "path",
"status", "body", "headers"?}], "events": [{"side", "channel", "name",
"data"}]} where `body`/`data` are the exact texts and `headers` (optional) maps
response header names to values. Every response must match a documented
path + method + status (a literal path segment wins over a `{param}`) and its
schema (2xx with a body too); a body documented with a non-JSON media type
only (the WhatsApp media route's file) is not checked; when `headers` are
captured, the headers the contract documents for that status are checked
(present when `required`, value against their schema). Every event must be one
of `x-events` (same name, channel matching one of its `channel`/`channels`
templates) with a valid payload; a template parameter that is also a payload
key (`whatsapp.{sessionId}` and `sessionId`) must have the channel's value.
Schemas marked `x-key-order: true` also require the object's keys in the order
of their `properties`. Exit 1 with one line per failure.

Needs PyYAML and jsonschema (contracts/requirements.txt).
"""
import json
import re
import sys

import jsonschema
import yaml

CONTRACT = __file__.rsplit('/', 1)[0] + '/legacy-api.yaml'
PARAM = re.compile(r'\{([^}]+)\}')


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


def key_order(validator, ordered, instance, schema):
    """`x-key-order: true`: the object's keys that `properties` lists come in
    that order (JSON text order: json.loads keeps it)."""
    if not ordered or not validator.is_type(instance, 'object'):
        return
    rank = {k: i for i, k in enumerate(schema.get('properties', {}))}
    keys = [k for k in instance if k in rank]
    if keys != sorted(keys, key=rank.__getitem__):
        yield jsonschema.ValidationError(
            f'keys {keys} are not in the contract order {list(rank)}')


Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {'x-key-order': key_order})


def validator(doc, schema):
    root = dict(schema)
    root['components'] = doc['components']
    return Validator(root)


def path_regex(template):
    return re.compile('^' + PARAM.sub('[^/]+', template) + '$')


def channel_regex(template):
    parts = PARAM.split(template)
    # split() alternates literal text and parameter names.
    rx = ''.join(re.escape(p) if i % 2 == 0 else f'(?P<{p}>.+)' for i, p in enumerate(parts))
    return re.compile('^' + rx + '$')


def check_headers(doc, resp, headers, where, failures):
    got = {k.lower(): v for k, v in headers.items()}
    for name, spec in (resp.get('headers') or {}).items():
        spec = deref(doc, spec)
        value = got.get(name.lower())
        if value is None:
            if spec.get('required'):
                failures.append(f'{where}: header {name} missing')
            continue
        for err in validator(doc, spec.get('schema', {})).iter_errors(value):
            failures.append(f'{where}: header {name}: {err.message}')


def check_responses(doc, capture, failures):
    # Most specific first: fewer `{param}` segments, so `/outbox/claim` is not
    # taken for `/outbox/{outboxId}`-like templates.
    routes = sorted(((path_regex(p), p, item) for p, item in doc['paths'].items()),
                    key=lambda r: len(PARAM.findall(r[1])))
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
        if r.get('headers') is not None:
            check_headers(doc, resp, r['headers'], where, failures)
        content = resp.get('content')
        if not content:
            if r['body']:
                failures.append(f'{where}: body where the contract has none')
            continue
        if 'application/json' not in content:
            continue  # a file (e.g. media): its bytes are not the contract's business
        schema = content['application/json']['schema']
        try:
            body = json.loads(r['body'])
        except ValueError:
            failures.append(f'{where}: body is not JSON')
            continue
        for err in validator(doc, schema).iter_errors(body):
            failures.append(f'{where}: {err.json_path}: {err.message}')


def check_events(doc, capture, failures):
    specs = []
    for x in doc['x-events']:
        for template in x.get('channels') or [x['channel']]:
            specs.append((x['name'], channel_regex(template), x['payload']))
    for e in capture.get('events', []):
        where = f"{e['side']} event {e['name']} on {e['channel']}"
        spec = [(rx.match(e['channel']), payload) for name, rx, payload in specs
                if name == e['name'] and rx.match(e['channel'])]
        if not spec:
            failures.append(f'{where}: not in x-events')
            continue
        m, payload = spec[0]
        try:
            data = json.loads(e['data'])
        except ValueError:
            failures.append(f'{where}: data is not JSON')
            continue
        for err in validator(doc, {'$ref': payload}).iter_errors(data):
            failures.append(f'{where}: {err.json_path}: {err.message}')
        if isinstance(data, dict):
            for param, value in m.groupdict().items():
                if param in data and data[param] != value:
                    failures.append(f'{where}: $.{param}: {data[param]!r} is not the channel\'s {value!r}')


def main(capture_file):
    doc = load()
    with open(capture_file) as f:
        capture = json.load(f)
    failures = []
    check_responses(doc, capture, failures)
    check_events(doc, capture, failures)
    for line in failures:
        print(line)
    n = len(capture['responses'])
    print(f'{n} responses and {len(capture.get("events", []))} events checked, {len(failures)} failure(s)')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
