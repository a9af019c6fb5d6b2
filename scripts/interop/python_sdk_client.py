"""The Python atproto SDK (PyPI) as a client of a PDS, for the PDS's tests.

Usage:
  python_sdk_client.py URL HANDLE PASSWORD

Logs in, uploads a blob, writes a record that references it with put_record,
downloads the repository with get_repo, parses the CAR and verifies the
commit's signature with the SDK's own code (the key from the DID document the
PDS's PLC directory serves), and lists the blobs. Prints one JSON object:
  {"did", "uri", "cid", "commit", "blocks", "signature_valid", "record_in_car",
   "blob", "listed_blobs", "validation_status"}
"""
import json
import sys
import urllib.request

import libipld
from atproto import CAR, Client, models
from atproto_crypto.verify import verify_signature


def main(url, handle, password):
    client = Client(base_url=url.rstrip("/") + "/xrpc")
    client.login(handle, password, fetch_bsky_profile=False)
    did = client.com.atproto.server.get_session().did

    upload = client.com.atproto.repo.upload_blob(b"\x89PNG from the python sdk")
    record = {
        "$type": "com.example.pin",
        "file": upload.blob.model_dump(by_alias=True),
        "createdAt": "2024-01-01T00:00:00.000Z",
    }
    put = client.com.atproto.repo.put_record(
        models.ComAtprotoRepoPutRecord.Data(repo=did, collection="com.example.pin", rkey="self", record=record))

    car_bytes = client.com.atproto.sync.get_repo(models.ComAtprotoSyncGetRepo.Params(did=did))
    car = CAR.from_bytes(car_bytes)
    commit = dict(car.blocks[car.root])
    signature = commit.pop("sig")
    with urllib.request.urlopen(f"{url.rstrip('/')}/{did}") as response:
        document = json.load(response)
    method = next(m for m in document["verificationMethod"] if m["id"].endswith("#atproto"))
    did_key = "did:key:" + method["publicKeyMultibase"]
    valid = verify_signature(did_key, libipld.encode_dag_cbor(commit), signature)

    blobs = client.com.atproto.sync.list_blobs(models.ComAtprotoSyncListBlobs.Params(did=did))
    print(json.dumps({
        "did": did,
        "uri": put.uri,
        "cid": put.cid,
        "commit": str(car.root),
        "blocks": len(car.blocks),
        "signature_valid": bool(valid),
        "record_in_car": any(str(cid) == put.cid for cid in car.blocks),
        "blob": upload.blob.ref.link,
        "listed_blobs": list(blobs.cids),
        "validation_status": put.validation_status,
    }))


if __name__ == "__main__":
    main(*sys.argv[1:4])
