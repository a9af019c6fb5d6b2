"""The `bsky` CLI as users run it: whole processes on a 100k-record repository.

Usage: bench_cli.py BSKY DIRECTORY [--cli-records N] [--cli-runs N]

Times `bsky car build` (JSON lines to a signed CAR), `bsky car verify` and
`bsky car verify --repo --key` as processes, start-up included, and beside
them, in this run, the anchors: libipld's decode_car and atmst's hash-checked
walk, and a Python build of the same repository (json, cbrrr, atmst).
The anchors are timed inside their process, start-up excluded.
"""
import json
import os
import random
import statistics
import subprocess
import sys
import time

import cbrrr
import ecdsa
import libipld

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import atmst_verify  # noqa: E402

KEY_HEX = "11" * 32
WORDS = "the quick brown fox jumps over lazy dog atproto bluesky swift relay firehose commit record tree".split()
BLOB_CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"


def flag(name, default):
    args = sys.argv[3:]
    return int(args[args.index(name) + 1]) if name in args else default


def tid(i):
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    v = ((1_700_000_000_000_000 + i * 1000) << 10) | (i % 1024)
    s = ""
    for _ in range(13):
        s = alphabet[v & 31] + s
        v >>= 5
    return s


def write_records(path, n):
    """Posts (some with an image blob), likes and follows, a third each."""
    rng = random.Random(7)
    with open(path, "w") as f:
        for i in range(n):
            if i % 3 == 0:
                collection = "app.bsky.feed.post"
                record = {"$type": collection, "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 25))),
                          "createdAt": "2024-01-01T00:00:00.000Z", "langs": ["en"]}
                if i % 30 == 0:
                    record["embed"] = {"$type": "app.bsky.embed.images", "images": [{"alt": "", "image": {
                        "$type": "blob", "ref": {"$link": BLOB_CID}, "mimeType": "image/jpeg", "size": 12345}}]}
            elif i % 3 == 1:
                collection = "app.bsky.feed.like"
                record = {"$type": collection, "createdAt": "2024-01-01T00:00:00.000Z",
                          "subject": {"uri": f"at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/{tid(i)}", "cid": BLOB_CID}}
            else:
                collection = "app.bsky.graph.follow"
                record = {"$type": collection, "subject": "did:plc:ewvi7nxzyoun6zhxrhs64oiz", "createdAt": "2024-01-01T00:00:00.000Z"}
            f.write(json.dumps({"collection": collection, "rkey": tid(i), "record": record}) + "\n")


def did_key(hex_key):
    public = ecdsa.SigningKey.from_string(bytes.fromhex(hex_key), curve=ecdsa.SECP256k1).get_verifying_key().to_string("compressed")
    data = bytes([0xE7, 0x01]) + public
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n, out = int.from_bytes(data, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = alphabet[r] + out
    return "did:key:z" + out


def timed_process(argv, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(argv, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed:\n{result.stderr}")
    return times, result.stdout


def python_build(records_file):
    """The same repository in Python: JSON, DAG-CBOR and CIDs, then atmst's tree."""
    from atmst.blockstore import MemoryBlockStore
    from atmst.mst.node_store import NodeStore
    from atmst.mst.node_wrangler import NodeWrangler

    def link(value):
        if isinstance(value, dict):
            if set(value) == {"$link"}:
                return cbrrr.CID.decode(value["$link"])
            return {k: link(v) for k, v in value.items()}
        if isinstance(value, list):
            return [link(v) for v in value]
        return value

    start = time.perf_counter()
    store = NodeStore(MemoryBlockStore())
    wrangler = NodeWrangler(store)
    root = store.get_node(None).cid
    with open(records_file) as f:
        for line in f:
            row = json.loads(line)
            block = cbrrr.encode_dag_cbor(link(row["record"]))
            cid = cbrrr.CID.cidv1_dag_cbor_sha256_32_from(block)
            root = wrangler.put_record(root, f"{row['collection']}/{row['rkey']}", cid)
    return time.perf_counter() - start, root.encode()


def main():
    bsky, directory = sys.argv[1], sys.argv[2]
    n = flag("--cli-records", 100_000)
    runs = flag("--cli-runs", 5)
    os.makedirs(directory, exist_ok=True)
    records = os.path.join(directory, "records.jsonl")
    car = os.path.join(directory, "repo.car")
    write_records(records, n)
    key = did_key(KEY_HEX)

    startup, _ = timed_process([bsky, "--help"], runs)
    build, out = timed_process([bsky, "car", "build", "--records", records, "--did", "did:plc:bench", "--key-hex", KEY_HEX,
                                "--rev", "3ke6kg3wk2222", "--out", car], runs)
    built = json.loads(out)
    verify, _ = timed_process([bsky, "car", "verify", car], runs)
    verify_repo, out = timed_process([bsky, "car", "verify", "--repo", "--key", key, car, "--json"], runs)
    assert json.loads(out)["records"] == n

    data = open(car, "rb").read()
    libipld_times = []
    for _ in range(3):
        start = time.perf_counter()
        libipld.decode_car(data)
        libipld_times.append(time.perf_counter() - start)
    atmst_seconds, count = atmst_verify(car, key)
    assert count == n
    py_build, py_root = python_build(records)

    print(f"\nbsky as a process, {n} records, {len(data) / 1e6:.1f} MB CAR; {runs} runs each (ms): best / median; all")
    fmt = lambda ts: f"{min(ts) * 1000:8.1f} /{statistics.median(ts) * 1000:8.1f}   " + " ".join(f"{t * 1000:.0f}" for t in ts)
    print(f"  bsky --help (start-up)        {fmt(startup)}")
    rows = [
        ("bsky car build", build, py_build, "python json+cbrrr+atmst", 0.3),
        ("bsky car verify", verify, min(libipld_times), "libipld decode_car", 0.035),
        ("bsky car verify --repo --key", verify_repo, atmst_seconds, "atmst hash-checked walk", 0.1),
    ]
    for name, ts, anchor, anchor_name, goal in rows:
        median = statistics.median(ts)
        print(f"  {name:<30}{fmt(ts)}")
        print(f"    anchor {anchor_name}: {anchor * 1000:.0f} ms -> {anchor / median:.1f}x;"
              f" goal <= {goal * 1000:.0f} ms: {'ok' if median <= goal else 'MISSED'}")
    print(f"  roots: bsky {built['data']}, python {'agrees' if py_root == built['data'] else 'DIFFERS: ' + py_root}")


if __name__ == "__main__":
    main()
