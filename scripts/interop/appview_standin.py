"""A stand-in AppView on loopback, for the PDS's proxy tests.

Usage:
  appview_standin.py

It prints {"url", "did"} when ready, then reads the PLC directory's URL as a
line from stdin (the PDS that is started with its URL), answers {"plc": "ready"}
once it uses it, and stops when stdin
closes. It is `did:web:localhost%3APORT` and serves its DID document at
/.well-known/did.json with a `#bsky_appview` service. Every XRPC call must
carry a service-auth JWT, which it checks with the Python atproto SDK's own
verifier (`atproto_server.auth.jwt.verify_jwt`, the issuer's key from the PLC
directory through `atproto_identity`), plus `lxm` = the method called. Then it
answers app.bsky.actor.getProfile, getProfiles (from the actor's DID document;
handles are resolved by the PDS at PLC_URL) and app.bsky.feed.getTimeline;
app.bsky.unspecced.standinSlow answers after ten seconds; anything else is 501. GET /calls lists the
calls it verified, and those it refused, as JSON. Its DID document also
lists `#standin_other`: the same server by its IP address, which only
`atproto-proxy` reaches (through the DID document), and only when the PDS
lets proxied calls go to loopback addresses.
"""
import json
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from atproto_identity.resolver import IdResolver
from atproto_server.auth.jwt import verify_jwt

CALLS = []
LOCK = threading.Lock()


def main():
    state = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    port = server.server_address[1]
    own_did = f"did:web:localhost%3A{port}"
    url = f"http://localhost:{port}"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            if status == 200:
                self.send_header("content-language", "en")
                self.send_header("atproto-content-labelers", "did:plc:standinlabeler")
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            self.received = len(self.rfile.read(length))
            self.do_GET()

        def do_GET(self):
            parsed = urlparse(self.path)
            if parsed.path == "/.well-known/did.json":
                return self.answer(200, {
                    "@context": ["https://www.w3.org/ns/did/v1"],
                    "id": own_did,
                    "service": [{"id": "#bsky_appview", "type": "BskyAppView", "serviceEndpoint": url},
                                {"id": "#standin_other", "type": "StandIn", "serviceEndpoint": f"http://127.0.0.1:{port}"}],
                })
            if parsed.path == "/calls":
                with LOCK:
                    return self.answer(200, CALLS)
            if not parsed.path.startswith("/xrpc/"):
                return self.answer(404, {"error": "NotFound", "message": parsed.path})
            method = parsed.path[len("/xrpc/"):]
            resolver, plc_url = state.get("resolver"), state.get("plc_url")
            if resolver is None:
                return self.answer(503, {"error": "NotReady", "message": "no PLC directory yet"})
            auth = self.headers.get("authorization") or ""
            call = {"method": method, "labelers": self.headers.get("atproto-accept-labelers"),
                    "language": self.headers.get("accept-language"), "bytes": getattr(self, "received", 0)}
            try:
                if not auth.startswith("Bearer "):
                    raise ValueError("no bearer token")
                token = auth[len("Bearer "):]
                payload = verify_jwt(token, resolver.did.resolve_atproto_key, own_did)
                lxm = (payload.model_extra or {}).get("lxm")
                if lxm != method:
                    raise ValueError(f"lxm {lxm} is not {method}")
            except Exception as error:  # the verifier's refusal, whatever its kind
                call.update(verified=False, reason=f"{type(error).__name__}: {error}")
                with LOCK:
                    CALLS.append(call)
                return self.answer(401, {"error": "BadJwt", "message": str(error)})
            call.update(verified=True, iss=payload.iss, aud=payload.aud)
            with LOCK:
                CALLS.append(call)
            query = parse_qs(parsed.query)
            if method == "app.bsky.actor.getProfile":
                return self.answer(200, profile(resolver, plc_url, query["actor"][0]))
            if method == "app.bsky.actor.getProfiles":
                return self.answer(200, {"profiles": [profile(resolver, plc_url, actor) for actor in query.get("actors", [])]})
            if method == "app.bsky.feed.getTimeline":
                return self.answer(200, {"feed": []})
            if method == "app.bsky.unspecced.standinSlow":
                time.sleep(10)
                return self.answer(200, {})
            return self.answer(501, {"error": "MethodNotImplemented", "message": method})

    server.RequestHandlerClass = Handler
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"url": url, "did": own_did}), flush=True)
    state["plc_url"] = sys.stdin.readline().strip()
    state["resolver"] = IdResolver(plc_url=state["plc_url"], timeout=10)
    print(json.dumps({"plc": "ready"}), flush=True)  # the test waits for this before its first call
    sys.stdin.read()
    server.shutdown()


def profile(resolver, plc_url, actor):
    did = actor
    if not actor.startswith("did:"):
        # Handles under the test domain resolve through the PDS that also serves the PLC directory.
        query = urllib.parse.urlencode({"handle": actor})
        with urllib.request.urlopen(f"{plc_url.rstrip('/')}/xrpc/com.atproto.identity.resolveHandle?{query}") as response:
            did = json.load(response)["did"]
    document = resolver.did.resolve(did)
    handle = next((aka[len("at://"):] for aka in document.also_known_as or [] if aka.startswith("at://")), "handle.invalid")
    return {"did": did, "handle": handle, "displayName": "Stand-in view of " + handle, "followersCount": 0,
            "followsCount": 0, "postsCount": 0}


if __name__ == "__main__":
    main()
