"""Real mail servers for connection-check tests: aiosmtpd (SMTP) and Debian's dovecot (POP3).

Both listen on free high ports of 127.0.0.1 with a certificate of a throw-away CA (trustme) for
`localhost` and `127.0.0.1`. Use them through the fixtures; register this module as a pytest plugin
(`pytest_plugins = ["tests.mailservers"]`). Dovecot must run as root (it switches to its own users);
without it, or without root, the POP3 tests are skipped with the reason shown.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    return free_port()


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {timeout}s")


@dataclass
class MailTls:
    """A test CA and a server certificate for localhost / 127.0.0.1, as files."""

    ca: trustme.CA
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self):
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.cert_file), str(self.key_file))
        return context


@pytest.fixture(scope="session")
def mail_tls(tmp_path_factory) -> MailTls:
    folder = tmp_path_factory.mktemp("mail-tls")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", HOST)
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (folder / name).chmod(0o644)  # dovecot reads them as root, but keep them plain files
    return MailTls(ca, folder / "ca.pem", folder / "cert.pem", folder / "key.pem")


# --- SMTP: aiosmtpd ---------------------------------------------------------------------------------
@dataclass
class SmtpServer:
    mode: str  # none | starttls | ssl
    port: int
    users: dict[str, str]
    host: str = HOST


class _Sink:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        return "250 OK"


def _authenticator(users: dict[str, str]):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        # handled=False: aiosmtpd then answers the failure itself (535 5.7.8)
        return AuthResult(success=ok, handled=False)

    return check


SMTP_USERS = {"sender@shop.example": "smtp-canary-Pw1"}


@pytest.fixture(scope="session")
def smtp_servers(mail_tls) -> Iterator[dict[str, SmtpServer]]:
    """Three real SMTP servers with AUTH: `none` (plain, AUTH allowed without TLS), `starttls`
    (STARTTLS required before AUTH) and `ssl` (implicit TLS)."""
    servers: dict[str, SmtpServer] = {}
    controllers = []
    for mode in ("none", "starttls", "ssl"):
        port = free_port()
        kwargs: dict = {
            "authenticator": _authenticator(SMTP_USERS),
            # aiosmtpd only counts STARTTLS as TLS; on the implicit-TLS port everything is TLS
            "auth_require_tls": mode == "starttls",
        }
        if mode == "starttls":
            kwargs.update(tls_context=mail_tls.server_context(), require_starttls=True)
        if mode == "ssl":
            kwargs.update(ssl_context=mail_tls.server_context(), server_hostname="localhost")
        controller = Controller(_Sink(), hostname=HOST, port=port, **kwargs)
        controller.start()
        controllers.append(controller)
        servers[mode] = SmtpServer(mode, port, dict(SMTP_USERS))
    yield servers
    for controller in controllers:
        controller.stop()


# --- POP3: dovecot --------------------------------------------------------------------------------
@dataclass
class Pop3Server:
    plain_port: int  # plain + STLS
    ssl_port: int  # implicit TLS
    users: dict[str, str]
    waiting: dict[str, int] = field(default_factory=dict)  # messages in each mailbox
    host: str = HOST


POP3_USERS = {"support@shop.example": "pop3-canary-Pw1", "sales@shop.example": "pop3-canary-Pw2"}
POP3_WAITING = {"support@shop.example": 2, "sales@shop.example": 0}


def _dovecot_missing() -> str | None:
    if not Path(DOVECOT).exists():
        return f"dovecot is not installed ({DOVECOT}); .ci/run installs dovecot-pop3d"
    if os.geteuid() != 0:
        return "dovecot test instances need root (they switch to the dovecot users)"
    return None


def _dovecot_config(root: Path, tls: MailTls, plain: int, implicit: int) -> str:
    return f"""
protocols = pop3
listen = {HOST}
base_dir = {root}/run
state_dir = {root}/run
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{tls.cert_file}
ssl_key = <{tls.key_file}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
mail_location = maildir:{root}/mail/%u/Maildir
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
service pop3-login {{
  inet_listener pop3 {{
    port = {plain}
  }}
  inet_listener pop3s {{
    port = {implicit}
    ssl = yes
  }}
}}
"""


def _fill_mailbox(root: Path, user: str, count: int) -> None:
    maildir = root / "mail" / user / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (maildir / "new" / f"{1700000000 + index}.M{index}P1.test").write_text(
            f"From: shop@customer.example\r\nSubject: order {index}\r\n\r\nhello\r\n"
        )
    shutil.chown(root / "mail", "dovecot", "dovecot")
    for path in (root / "mail").rglob("*"):
        shutil.chown(path, "dovecot", "dovecot")


@pytest.fixture(scope="session")
def pop3_server(mail_tls) -> Iterator[Pop3Server]:
    """A real dovecot POP3 server (plain+STLS and implicit TLS) with two mailboxes."""
    reason = _dovecot_missing()
    if reason:
        pytest.skip(reason)
    # not under pytest's basetemp: that is 0700 and dovecot's own users must reach the files
    root = Path(tempfile.mkdtemp(prefix="reconciler-dovecot-"))
    root.chmod(0o755)
    (root / "run").mkdir()
    (root / "passwd").write_text(
        "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in POP3_USERS.items())
    )
    for user, count in POP3_WAITING.items():
        _fill_mailbox(root, user, count)
    plain, implicit = free_port(), free_port()
    config = root / "dovecot.conf"
    config.write_text(_dovecot_config(root, mail_tls, plain, implicit))
    # -F: in the foreground, so the process is ours to stop and its pipes do not outlive it
    log = (root / "dovecot.out").open("wb")
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        try:
            wait_for_port(plain)
            wait_for_port(implicit)
        except RuntimeError:
            pytest.fail(f"dovecot did not start: {(root / 'dovecot.out').read_text()[-2000:]}")
        yield Pop3Server(plain, implicit, dict(POP3_USERS), dict(POP3_WAITING))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)
