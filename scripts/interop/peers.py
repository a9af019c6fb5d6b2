"""Third-party atproto peers (libipld, cbrrr, carbox, arroba, the atproto SDK)
driven for the interop tests.

Usage:
  peers.py make-cars OUTDIR   write CAR files with third-party code
  peers.py read-car FILE      read a CAR with the atproto SDK and libipld; print
                              {"roots", "blocks", "bytes", "cids"} as JSON
  peers.py cbor-vectors N     print N JSON lines {"json", "cbor", "cid"}: random
                              records in atproto JSON form, with the DAG-CBOR hex
                              that libipld and cbrrr both produce and its CID
  peers.py crypto-sign N      print N JSON lines {"did_key", "message", "signature"}
                              (hex): K-256 and P-256 keys made and used by the
                              `cryptography` package, signatures normalised to low-S
  peers.py crypto-verify      read such JSON lines on stdin; print one line per
                              input: whether the atproto SDK accepts the signature
  peers.py mst-root           read lines "KEY CID" on stdin, insert them in that
                              order into an atmst tree, print its root CID
  peers.py mst-root-records FILE
                              read `bsky car build` JSON lines, encode each record
                              with libipld, insert them in a shuffled order into
                              an atmst tree, print its root CID

make-cars writes into OUTDIR:
  arroba-repo.car   a signed repository built by arroba (its own MST and commit),
                    framed by carbox.write_car, as arroba's getRepo serves it
  libipld-posts.car records encoded by libipld, framed by carbox.write_car
  manifest.json     for each file: roots, block count and byte count, as read back
                    by the atproto SDK's CAR parser and libipld.decode_car
"""
import base64
import json
import os
import random
import sys

import cbrrr
import libipld
from atproto_core.car import CAR
from carbox import car as carbox
from cryptography.hazmat.primitives.asymmetric import ec
from multiformats import CID, multihash


def arroba_repo(n, key=None):
    from arroba import util
    from arroba.repo import Repo
    from arroba.storage import Action, MemoryStorage, Write

    key = key or ec.generate_private_key(ec.SECP256K1())
    storage = MemoryStorage()
    repo = Repo.create(storage, "did:plc:interop000000000000000", signing_key=key, handle="interop.test")
    writes = [
        Write(action=Action.CREATE, collection="app.bsky.feed.post", rkey=util.next_tid(),
              record={"$type": "app.bsky.feed.post", "text": f"post {i} ✨", "createdAt": "2024-01-01T00:00:00.000Z"})
        for i in range(n)
    ]
    for start in range(0, n, 100):
        storage.commit(repo, writes[start:start + 100])
    repo = storage.load_repo("did:plc:interop000000000000000")
    blocks = [carbox.Block(repo.head.cid, repo.head.encoded)]
    blocks += [carbox.Block(cid, data) for cid, data in repo.mst.load_all()]
    return carbox.write_car([repo.head.cid], blocks)


def libipld_posts(n):
    blocks = []
    for i in range(n):
        record = {"$type": "app.bsky.feed.post", "text": f"post number {i}", "createdAt": "2024-01-01T00:00:00.000Z",
                  "langs": ["en"], "n": i - n // 2, "bytes": bytes([i % 256]) * (i % 7)}
        data = libipld.encode_dag_cbor(record)
        cid = CID("base32", 1, "dag-cbor", multihash.digest(data, "sha2-256"))
        blocks.append(carbox.Block(cid, data))
    index = libipld.encode_dag_cbor({"count": n})
    root = CID("base32", 1, "dag-cbor", multihash.digest(index, "sha2-256"))
    return carbox.write_car([root], [carbox.Block(root, index)] + blocks)


def describe(data):
    car = CAR.from_bytes(data)
    header, blocks = libipld.decode_car(data)
    assert len(blocks) == len(car.blocks), "atproto and libipld disagree"
    return {"roots": [str(car.root)], "blocks": len(blocks), "bytes": len(data),
            "cids": sorted(str(c) for c in car.blocks.keys())}


def make_cars(out):
    os.makedirs(out, exist_ok=True)
    manifest = {}
    from atproto_crypto.did import format_did_key
    from cryptography.hazmat.primitives import serialization

    key = ec.generate_private_key(ec.SECP256K1())
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    for name, data in [("arroba-repo.car", arroba_repo(300, key)), ("libipld-posts.car", libipld_posts(500))]:
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        entry = describe(data)
        del entry["cids"]
        manifest[name] = entry
    with open(os.path.join(out, "arroba-key.txt"), "w") as f:
        f.write(format_did_key("ES256K", point))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def random_value(rng, depth):
    """A random value as (atproto JSON form, native Python form for the encoders)."""
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None, None
    if kind == 1:
        b = rng.random() < 0.5
        return b, b
    if kind == 2:
        i = rng.choice([rng.randrange(-30, 30), rng.randrange(-2**53, 2**53), rng.randrange(-2**63, 2**63)])
        return i, i
    if kind == 3:
        s = "".join(rng.choice(["a", "Z", "é", "😀", "$", "text", "\u0000", " ", "ü"]) for _ in range(rng.randrange(6)))
        return s, s
    if kind == 4:
        b = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        return {"$bytes": base64.b64encode(b).decode().rstrip("=")}, b
    if kind == 5:
        data = bytes(rng.randrange(256) for _ in range(8))
        cid = CID("base32", 1, rng.choice(["dag-cbor", "raw"]), multihash.digest(data, "sha2-256"))
        return {"$link": str(cid)}, cbrrr.CID(bytes(cid))
    if kind == 6:
        pairs = [random_value(rng, depth + 1) for _ in range(rng.randrange(5))]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    keys = {"".join(rng.choice("abcé$Z") for _ in range(rng.randrange(1, 6))) for _ in range(rng.randrange(6))}
    keys.discard("$bytes")
    keys.discard("$link")
    keys.discard("$type")
    js, native = {}, {}
    for k in keys:
        js[k], native[k] = random_value(rng, depth + 1)
    return js, native


def cbor_vectors(n):
    rng = random.Random(20261121)
    for _ in range(n):
        js, native = random_value(rng, 0)
        if not isinstance(js, dict):
            js, native = {"v": js}, {"v": native}
        by_cbrrr = cbrrr.encode_dag_cbor(native)
        # libipld takes CIDs as their string form.
        by_libipld = libipld.encode_dag_cbor(libipld.decode_dag_cbor(by_cbrrr))
        assert by_cbrrr == by_libipld, "cbrrr and libipld disagree"
        cid = CID("base32", 1, "dag-cbor", multihash.digest(by_cbrrr, "sha2-256"))
        print(json.dumps({"json": js, "cbor": by_cbrrr.hex(), "cid": str(cid)}, ensure_ascii=False))


CURVE_ORDERS = {
    "ES256K": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
    "ES256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
}


def crypto_sign(n):
    from atproto_crypto.did import format_did_key
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    rng = random.Random(7)
    for i in range(n):
        alg = "ES256K" if i % 2 == 0 else "ES256"
        key = ec.generate_private_key(ec.SECP256K1() if alg == "ES256K" else ec.SECP256R1())
        point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
        message = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
        order = CURVE_ORDERS[alg]
        if s > order // 2:
            s = order - s
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        print(json.dumps({"did_key": format_did_key(alg, point), "message": message.hex(), "signature": signature.hex()}))


def crypto_verify():
    from atproto_crypto.verify import verify_signature

    for line in sys.stdin:
        if line.strip():
            row = json.loads(line)
            ok = verify_signature(row["did_key"], bytes.fromhex(row["message"]), bytes.fromhex(row["signature"]))
            print("true" if ok else "false")


def crypto_rfc6979():
    """Reads {secret, message} lines; prints each K-256 signature made by the
    pure-Python ecdsa package with an RFC 6979 nonce, low-S, as hex r || s."""
    import hashlib
    from ecdsa import SECP256k1, SigningKey
    from ecdsa.util import sigencode_string_canonize

    for line in sys.stdin:
        if line.strip():
            row = json.loads(line)
            key = SigningKey.from_string(bytes.fromhex(row["secret"]), curve=SECP256k1, hashfunc=hashlib.sha256)
            signature = key.sign_deterministic(bytes.fromhex(row["message"]), hashfunc=hashlib.sha256, sigencode=sigencode_string_canonize)
            print(signature.hex())


def mst_root():
    from atmst.blockstore import MemoryBlockStore
    from atmst.mst.node_store import NodeStore
    from atmst.mst.node_wrangler import NodeWrangler

    store = NodeStore(MemoryBlockStore())
    wrangler = NodeWrangler(store)
    root = store.get_node(None).cid
    for line in sys.stdin:
        if line.strip():
            key, cid = line.split()
            root = wrangler.put_record(root, key, cbrrr.CID.decode(cid))
    print(root.encode())


def mst_root_records(path):
    from atmst.blockstore import MemoryBlockStore
    from atmst.mst.node_store import NodeStore
    from atmst.mst.node_wrangler import NodeWrangler

    rows = [json.loads(line) for line in open(path) if line.strip()]
    random.Random(len(rows)).shuffle(rows)
    store = NodeStore(MemoryBlockStore())
    wrangler = NodeWrangler(store)
    root = store.get_node(None).cid
    for row in rows:
        data = libipld.encode_dag_cbor(row["record"])
        cid = cbrrr.CID(bytes(CID("base32", 1, "dag-cbor", multihash.digest(data, "sha2-256"))))
        root = wrangler.put_record(root, f'{row["collection"]}/{row["rkey"]}', cid)
    print(root.encode())


def plc_check():
    import hashlib
    from atproto_crypto.verify import verify_signature

    for line in sys.stdin:
        op = json.loads(line)
        did = "did:plc:" + base64.b32encode(hashlib.sha256(libipld.encode_dag_cbor(op)).digest()).decode().lower()[:24]
        unsigned = {k: v for k, v in op.items() if k != "sig"}
        sig = base64.urlsafe_b64decode(op["sig"] + "=" * (-len(op["sig"]) % 4))
        valid = any(verify_signature(key, libipld.encode_dag_cbor(unsigned), sig) for key in op["rotationKeys"])
        print(json.dumps({"did": did, "signature_valid": bool(valid)}))


def main():
    command, arg = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
    if command == "make-cars":
        make_cars(arg)
    elif command == "read-car":
        with open(arg, "rb") as f:
            print(json.dumps(describe(f.read())))
    elif command == "cbor-vectors":
        cbor_vectors(int(arg))
    elif command == "crypto-sign":
        crypto_sign(int(arg))
    elif command == "crypto-verify":
        crypto_verify()
    elif command == "crypto-rfc6979":
        crypto_rfc6979()
    elif command == "mst-root":
        mst_root()
    elif command == "mst-root-records":
        mst_root_records(arg)
    elif command == "plc-check":
        plc_check()
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
