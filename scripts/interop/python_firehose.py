"""The Python atproto SDK's firehose client (PyPI) reading a subscribeRepos
stream, for the PDS's tests.

Usage:
  python_firehose.py WS_BASE CURSOR COUNT

Connects to WS_BASE (ws://host:port/xrpc) from CURSOR, parses COUNT messages
with parse_subscribe_repos_message (commits' blocks with the SDK's CAR parser),
and prints one JSON line per message: {"type", "seq", "repo", "ops", "blocks"};
for #commit and #sync, whether the CAR's root is the commit (of that rev and DID).
Exits 1 if COUNT messages do not arrive within 30 seconds.
"""
import json
import sys
import threading

from atproto import CAR, FirehoseSubscribeReposClient, parse_subscribe_repos_message


def main(base, cursor, count):
    client = FirehoseSubscribeReposClient({"cursor": int(cursor)}, base_uri=base)
    seen = []
    done = threading.Event()

    def on_message(message):
        parsed = parse_subscribe_repos_message(message)
        row = {"type": message.type, "seq": getattr(parsed, "seq", None)}
        if message.type == "#commit":
            car = CAR.from_bytes(parsed.blocks)
            row.update(repo=parsed.repo, ops=[f"{op.action} {op.path}" for op in parsed.ops], blocks=len(car.blocks),
                       root_is_commit=str(car.root) == str(parsed.commit))
        elif message.type == "#sync":
            car = CAR.from_bytes(parsed.blocks)
            commit = car.blocks.get(car.root)
            row.update(repo=parsed.did, rev=parsed.rev, blocks=len(car.blocks),
                       root_is_commit=commit is not None and commit.get("rev") == parsed.rev and commit.get("did") == parsed.did)
        elif hasattr(parsed, "did"):
            row["repo"] = parsed.did
        seen.append(row)
        if len(seen) >= count:
            done.set()
            client.stop()

    thread = threading.Thread(target=client.start, args=(on_message,), daemon=True)
    thread.start()
    if not done.wait(30):
        print(json.dumps({"error": f"only {len(seen)} of {count} messages"}))
        sys.exit(1)
    for row in seen[:count]:
        print(json.dumps(row))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
