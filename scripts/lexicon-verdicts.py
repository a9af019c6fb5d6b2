#!/usr/bin/env python3
"""Oracle: does the Python `atproto` SDK accept or reject each record?

Usage:
    python3 scripts/lexicon-corpus.py | .venv/bin/python scripts/lexicon-verdicts.py

Reads JSON lines from stdin, each {"name": str, "record": {...with "$type"...}}, and prints one
JSON line per input, in order:

    {"name": ..., "valid": true|false|null, "path": "embed.images.0.alt"|null, "error": str|null}

`valid` is null when the SDK has no model for the record's $type (or there is no $type).

How the SDK is used (atproto_client from PyPI `atproto`, see scripts/requirements.txt):
  * the record model comes from the SDK's own NSID registry, `resolve_record_type($type)`,
    which is what `models.get_or_create(record)` uses internally;
  * it is validated with `Model.model_validate(record, context={"strict_string_format": True})`,
    exactly what `get_or_create(record, strict=True, strict_string_format=True)` does, but
    called directly so that the pydantic error (with its location) is not flattened to a string.
    The models are pydantic "strict" models (no type coercion) that allow extra fields; string
    formats (did, handle, at-uri, datetime, language, cid, uri, nsid, tid, record-key) are only
    checked when `strict_string_format` is set, which is why it is turned on here.
  * The SDK does NOT check maxGraphemes, counts maxLength in code points (not UTF-8 bytes),
    and ignores blob `accept`/`maxSize`; those are the SDK's verdicts, reported as they are.
"""

import json
import sys

from pydantic import ValidationError

from atproto_client.models.record_registry import resolve_record_type

_CONTEXT = {'strict_string_format': True}  # the SDK's switch for string format validation


def data_path(record: object, loc: tuple) -> str:
    """Turn a pydantic error location into a dotted path through the record's own data.

    Pydantic inserts union tags (e.g. 'app.bsky.embed.images') and validator names into `loc`;
    keep only the steps that exist in the data, plus a final missing key (a missing field).
    """
    parts, node = [], record
    for i, step in enumerate(loc):
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        elif isinstance(node, dict) and isinstance(step, str) and i == len(loc) - 1:
            pass  # a required key that is absent
        else:
            continue  # a union tag or validator name, not part of the data
        parts.append(str(step))
    return '.'.join(parts)


def verdict(record: object) -> dict:
    nsid = record.get('$type') if isinstance(record, dict) else None
    model = resolve_record_type(nsid) if isinstance(nsid, str) else None
    if model is None:
        return {'valid': None, 'path': None, 'error': f'no SDK model for $type {nsid!r}'}
    try:
        model.model_validate(record, context=_CONTEXT)
    except ValidationError as e:
        return rejection(record, e)
    except Exception as e:  # noqa: BLE001
        # The SDK's format validators run before the type check, so a non-string in a format
        # field (e.g. createdAt: 123) raises AttributeError instead of a ValidationError.
        # The SDK still does not accept the record: report a rejection, and take the path from
        # a second pass without format checks (which reports the type error properly).
        crash = f'SDK raised {type(e).__name__}: {e}'
        try:
            model.model_validate(record)
        except ValidationError as e2:
            return dict(rejection(record, e2), error=crash)
        return {'valid': False, 'path': None, 'error': crash}
    return {'valid': True, 'path': None, 'error': None}


def rejection(record: dict, e: ValidationError) -> dict:
    """The verdict for a pydantic ValidationError: its first error, with a data path."""
    first = e.errors()[0]
    return {'valid': False, 'path': data_path(record, first['loc']), 'error': f"{first['type']}: {first['msg']}"}


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        out = {'name': case.get('name')}
        out.update(verdict(case.get('record')))
        print(json.dumps(out, ensure_ascii=False))


if __name__ == '__main__':
    main()
