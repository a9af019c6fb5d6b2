"""An SMTP sink on loopback (aiosmtpd), for the PDS's email tests.

Usage:
  smtp_sink.py DIRECTORY

Requires AUTH as pds/secret, then accepts every message and writes it to DIRECTORY/<n>.eml (the envelope
recipients on the first line, then the message as received) before it
answers 250, so that a sender that saw 250 finds the file there. Prints
{"host", "port"} when ready; stops when stdin closes.
"""
import json
import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Keep:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            path = os.path.join(self.directory, f"{self.count}.eml")
        content = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        with open(path + ".tmp", "wb") as file:
            file.write((",".join(envelope.rcpt_tos) + "\n").encode() + content)
        os.replace(path + ".tmp", path)
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    """Only pds/secret may send (AUTH over plain TCP is allowed here: loopback)."""
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"pds" and auth_data.password == b"secret"
    return AuthResult(success=ok)


def free_port():
    # aiosmtpd's controller connects to its own port to start, so it needs a real one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(directory):
    port = free_port()
    # aiosmtpd gives up after 5 s by default; on a machine busy with the rest of
    # the tests, starting its thread can take longer (the caller waits 60 s).
    controller = Controller(
        Keep(directory), hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False, auth_required=True,
        ready_timeout=50)
    controller.start()
    print(json.dumps({"host": "127.0.0.1", "port": str(port)}), flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main(sys.argv[1])
