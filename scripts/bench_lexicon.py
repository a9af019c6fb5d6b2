"""The anchors' side of scripts/bench-lexicon, and the comparison.

Usage: bench_lexicon.py SWIFT_JSONL CORPUS_DIR [--repeat N]

On the corpus LexBench wrote (the same records): libipld's DAG-CBOR decode into
Python dicts (untyped), and the atproto SDK's model parsing of those records,
from DAG-CBOR (libipld, as its firehose client does) and from JSON.
"""
import json
import struct
import sys
import time

import libipld
from atproto_client import models

Post = models.AppBskyFeedPost.Record


def flag(name, default):
    args = sys.argv[3:]
    return int(args[args.index(name) + 1]) if name in args else default


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    swift = {r["name"]: r for r in (json.loads(line) for line in open(sys.argv[1]) if line.strip())}
    corpus = sys.argv[2]
    repeat = flag("--repeat", 5)
    raw = open(f"{corpus}/posts.cbor", "rb").read()
    records, i = [], 0
    while i < len(raw):
        (n,) = struct.unpack(">I", raw[i:i + 4])
        records.append(raw[i + 4:i + 4 + n])
        i += 4 + n
    lines = open(f"{corpus}/posts.jsonl").read().split("\n")
    assert len(records) == len(lines) == swift["lex.cbor.decode"]["items"]

    dicts = [libipld.decode_dag_cbor(r) for r in records]
    anchors = {
        "libipld.decode": best(lambda: [libipld.decode_dag_cbor(r) for r in records], repeat),
        "libipld.encode": best(lambda: [libipld.encode_dag_cbor(d) for d in dicts], repeat),
        # The SDK's typed models: from DAG-CBOR (libipld, then the model) and from JSON.
        "atproto.cbor.decode": best(lambda: [Post.model_validate(libipld.decode_dag_cbor(r)) for r in records], max(1, repeat // 2)),
        "atproto.json.decode": best(lambda: [Post.model_validate_json(line) for line in lines], max(1, repeat // 2)),
    }
    n = len(records)
    print(f"\n{n} app.bsky.feed.post records ({swift['lex.cbor.decode']['distinct']} distinct real posts), best of {repeat}")
    print(f"{'workload':<44}{'seconds':>10}{'ns/record':>12}")
    rows = [(name, r["seconds"]) for name, r in swift.items()] + list(anchors.items())
    for name, seconds in rows:
        print(f"{name:<44}{seconds:>10.4f}{seconds / n * 1e9:>12.0f}")
    ratio = lambda anchor, ours: anchors[anchor] / swift[ours]["seconds"]
    print("\nratios (anchor time / Swift time; > 1 means Swift is faster)")
    print(f"typed CBOR decode vs libipld untyped decode:   {ratio('libipld.decode', 'lex.cbor.decode'):6.1f}x  (goal >= 5x)")
    print(f"typed CBOR encode vs libipld encode:           {ratio('libipld.encode', 'lex.cbor.encode'):6.1f}x")
    print(f"typed CBOR decode vs atproto SDK (CBOR):       {ratio('atproto.cbor.decode', 'lex.cbor.decode'):6.1f}x")
    print(f"typed JSON decode vs atproto SDK (JSON):       {ratio('atproto.json.decode', 'lex.json.decode'):6.1f}x")


if __name__ == "__main__":
    main()
