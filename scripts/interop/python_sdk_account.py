"""The Python atproto SDK (PyPI) logs in at a PDS and asks for the account's status.

Usage:
  python_sdk_account.py URL HANDLE PASSWORD

Prints one JSON object: {"did", "handle", "active", "status": checkAccountStatus's output}.
"""
import json
import sys

from atproto import Client


def main(url, handle, password):
    client = Client(base_url=url.rstrip("/") + "/xrpc")
    client.login(handle, password, fetch_bsky_profile=False)
    session = client.com.atproto.server.get_session()
    status = client.com.atproto.server.check_account_status()
    print(json.dumps({
        "did": session.did,
        "handle": session.handle,
        "active": session.active,
        "status": status.model_dump(by_alias=True),
    }))


if __name__ == "__main__":
    main(*sys.argv[1:4])
