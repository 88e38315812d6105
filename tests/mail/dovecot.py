"""A throwaway local Dovecot IMAP server on 127.0.0.1, for the IMAP tests and the ingestion benchmark.

Development tooling, not used by the service itself, so it lives under tests/ and is not shipped in
the wheel (the benchmark, run from the repository root, imports it from here). It writes a Dovecot 2.3
configuration with its own base_dir and Maildir in a temporary folder and runs `dovecot -F` in the
foreground.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

USER, PASSWORD = "triage", "imap-test-secret"


@dataclass
class Dovecot:
    host: str
    port: int  # plain IMAP, STARTTLS offered when tls_port is set
    tls_port: int | None  # implicit TLS, when openssl could make a certificate
    ca_file: Path | None  # the self-signed certificate, to verify against
    config: Path
    user: str = USER
    password: str = PASSWORD

    def client(self) -> IMAPClient:
        """A logged-in client for setting up and inspecting folders."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.login(self.user, self.password)
        return client

    def kick(self) -> None:
        """Drop every connection of the test user, as a server restart would."""
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        subprocess.run([doveadm, "-c", str(self.config), "kick", self.user], check=True, capture_output=True,
                       timeout=20)

    def new_folder(self, prefix: str = "t") -> str:
        """A fresh, empty folder: each test gets its own so they never see each other's mail."""
        name = f"{prefix}{uuid.uuid4().hex[:10]}"
        with self.client() as client:
            client.create_folder(name)
        return name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.access(p, os.X_OK)), None)


def _make_certificate(folder: Path) -> tuple[Path, Path] | None:
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    result = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        capture_output=True, check=False, timeout=60)
    if result.returncode != 0:
        return None
    key.chmod(0o600)
    return cert, key


def _accounts() -> tuple[int, int, str, str]:
    """(mail uid, mail gid, login user, internal user): unprivileged ones when we run as root."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return os.geteuid(), os.getegid(), me, me
    nobody = pwd.getpwnam("nobody")  # uid 65534: above Dovecot's first_valid_uid (500)
    login = "dovenull" if _has_user("dovenull") else "nobody"
    internal = "dovecot" if _has_user("dovecot") else "nobody"
    return nobody.pw_uid, nobody.pw_gid, login, internal


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _config(root: Path, port: int, tls_port: int | None, cert: tuple[Path, Path] | None,
            login_user: str, internal_user: str) -> str:
    # Dovecot 2.3 syntax (Debian 12): `disable_plaintext_auth = no` lets LOGIN work without TLS on
    # loopback; 2.4 renamed it `auth_allow_cleartext` and changed the mail and passdb settings.
    ssl = f"ssl = yes\nssl_cert = <{cert[0]}\nssl_key = <{cert[1]}\n" if cert else "ssl = no\n"
    imaps = f"address = 127.0.0.1\n    port = {tls_port}" if tls_port else "port = 0"
    internal_group = ""
    if os.geteuid() != 0:
        internal_group = f"default_internal_group = {grp.getgrgid(os.getegid()).gr_name}\n"
    return f"""\
base_dir = {root}/run
state_dir = {root}/state
instance_name = triage-test-{port}
protocols = imap
listen = 127.0.0.1
log_path = {root}/dovecot.log
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
{internal_group}mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    {imaps}
  }}
}}
# No auth penalty (Dovecot's AuthPenalty docs): one test's wrong password must not slow every later login.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""


class DovecotMissing(RuntimeError):
    """Dovecot is not installed here."""


class DovecotError(RuntimeError):
    """Dovecot is installed but could not be started."""


@contextmanager
def run_dovecot() -> Iterator[Dovecot]:
    """Dovecot in the foreground with its own config, base_dir and Maildir in a temp folder."""
    binary = _dovecot_binary()
    if binary is None:
        raise DovecotMissing("dovecot is not installed (apt-get install dovecot-imapd; .ci/run installs it)")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    if not re.match(r"2\.3\.", version):
        raise DovecotError(f"this launcher writes a Dovecot 2.3 configuration; dovecot {version} is installed")
    # Not under a test's private temp folder: that is private to us (0700) and Dovecot's mail processes run
    # as an unprivileged user that must reach its Maildir.
    root = Path(tempfile.mkdtemp(prefix="triage-dovecot-"))
    root.chmod(0o755)
    uid, gid, login_user, internal_user = _accounts()
    home = root / "home" / USER
    home.mkdir(parents=True)
    os.chown(home, uid, gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{home}::\n", encoding="utf-8")
    cert = _make_certificate(root)
    port = _free_port()
    tls_port = _free_port() if cert else None
    config = root / "dovecot.conf"
    config.write_text(_config(root, port, tls_port, cert, login_user, internal_user), encoding="utf-8")
    proc = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    logfile = root / "dovecot.log"
                    log = logfile.read_text(errors="replace") if logfile.exists() else ""
                    output = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
                    raise DovecotError(f"dovecot did not start on 127.0.0.1:{port}:\n{output}\n{log}") from None
                time.sleep(0.05)
        yield Dovecot("127.0.0.1", port, tls_port, cert[0] if cert else None, config)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stdout:
            proc.stdout.close()
        shutil.rmtree(root, ignore_errors=True)
