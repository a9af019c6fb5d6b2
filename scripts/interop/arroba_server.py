"""arroba (PyPI) serving XRPC on loopback, for the client SDK's end-to-end tests.

Usage:
  arroba_server.py [--records N]

--records N fills the repository with N posts first (in commits of 100), for
the PDS benchmark's getRepo anchor.

Creates an in-memory repository (arroba's MemoryStorage) for a fresh did:plc
with a K-256 key, serves arroba's com.atproto.repo.* and com.atproto.sync.*
methods with Flask on 127.0.0.1 at a free port, and prints one JSON line:
  {"url", "did", "didKey", "token", "handle", "password"}
then serves until stdin closes (the test process ending closes it too).

The token is arroba's global REPO_TOKEN bearer, which writes need;
createSession with the handle and password hands it out too.

What the wrapper adds, because arroba leaves it to its host application:
  - com.atproto.repo.uploadBlob and com.atproto.sync.listBlobs keep blobs in
    memory (arroba's versions need Google Cloud Datastore), with cursor paging
    over CIDs as the lexicon describes;
  - putRecord checks swapRecord / swapCommit as the lexicon says (InvalidSwap),
    which arroba ignores, then hands the write to arroba.
"""
import hashlib
import json
import os
import sys
import threading

os.environ.setdefault("REPO_TOKEN", "interop-token")
os.environ.setdefault("REPO_PASSWORD", "interop-password")
os.environ.setdefault("PDS_HOST", "arroba.test")

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from flask import Flask  # noqa: E402
from lexrpc.base import XrpcError  # noqa: E402
from lexrpc.flask_server import init_flask  # noqa: E402
from multiformats import CID, multibase, multihash  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from arroba import server, util  # noqa: E402
from arroba import xrpc_repo, xrpc_server, xrpc_sync  # noqa: E402,F401  (registers the methods)
from arroba.repo import Repo  # noqa: E402
from arroba.storage import MemoryStorage  # noqa: E402

BLOBS = {}  # did -> {cid string: (bytes, mime)}
LOCK = threading.Lock()


def did_key(key):
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    return "did:key:" + multibase.encode(bytes([0xE7, 0x01]) + point, "base58btc")


def upload_blob(input, **params):
    server.authenticate()
    data = input if isinstance(input, (bytes, bytearray)) else bytes(input or b"")
    from flask import request
    mime = request.headers.get("Content-Type", "application/octet-stream")
    cid = CID("base32", 1, "raw", multihash.wrap(hashlib.sha256(data).digest(), "sha2-256"))
    with LOCK:
        BLOBS.setdefault(DID, {})[str(cid)] = (bytes(data), mime)
    return {"blob": {"$type": "blob", "ref": cid, "mimeType": mime, "size": len(data)}}


def list_blobs(input, did=None, since=None, limit=500, cursor=None):
    server.load_repo(did)  # RepoNotFound for unknown DIDs, as arroba does
    limit = int(limit)
    with LOCK:
        cids = sorted(BLOBS.get(did, {}))
    if cursor:
        cids = [c for c in cids if c > cursor]
    page = cids[:limit]
    out = {"cids": page}
    if len(page) == limit and len(cids) > limit:
        out["cursor"] = page[-1]
    return out


ARROBA_PUT_RECORD = server.server._methods["com.atproto.repo.putRecord"]


def put_record(input):
    repo = server.load_repo(input["repo"])
    if "swapCommit" in input and input["swapCommit"] is not None:
        if str(input["swapCommit"]) != repo.head.cid.encode("base32"):
            raise XrpcError(f"Commit was at {repo.head.cid.encode('base32')}", name="InvalidSwap")
    if "swapRecord" in input:
        existing = repo.get_record(input["collection"], input["rkey"])
        current = util.dag_cbor_cid(existing).encode("base32") if existing is not None else None
        expected = input["swapRecord"]
        expected = None if expected is None else str(expected)
        if expected != current:
            raise XrpcError(f"Record was at {current}", name="InvalidSwap")
    # Checked here; arroba itself rejects the fields.
    return ARROBA_PUT_RECORD({k: v for k, v in input.items() if k not in ("swapRecord", "swapCommit")})


server.server.register("com.atproto.repo.uploadBlob", upload_blob, override=True)
server.server.register("com.atproto.sync.listBlobs", list_blobs, override=True)
server.server.register("com.atproto.repo.putRecord", put_record, override=True)

KEY = ec.generate_private_key(ec.SECP256K1())
DID = "did:plc:" + hashlib.sha256(os.urandom(16)).hexdigest()[:24]
server.storage = MemoryStorage()
Repo.create(server.storage, DID, signing_key=KEY, handle="arroba.test")
if "--records" in sys.argv:
    from arroba.storage import Action, Write
    count = int(sys.argv[sys.argv.index("--records") + 1])
    repo = server.storage.load_repo(DID)
    for start in range(0, count, 100):
        writes = [
            Write(action=Action.CREATE, collection="app.bsky.feed.post", rkey=util.next_tid(),
                  record={"$type": "app.bsky.feed.post", "text": f"post {i}", "createdAt": "2024-01-01T00:00:00.000Z"})
            for i in range(start, min(start + 100, count))
        ]
        server.storage.commit(repo, writes)
        repo = server.storage.load_repo(DID)

app = Flask("arroba-interop")
init_flask(server.server, app)
http = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=http.serve_forever, daemon=True).start()
print(json.dumps({
    "url": f"http://127.0.0.1:{http.server_port}",
    "did": DID,
    "didKey": did_key(KEY),
    "token": os.environ["REPO_TOKEN"],
    "handle": "arroba.test",
    "password": os.environ["REPO_PASSWORD"],
}), flush=True)
sys.stdin.read()  # until the test closes stdin or exits
http.shutdown()
