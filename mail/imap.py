"""Pulling a mailbox's mail over IMAP into the durable inbox.

One transaction per message stores the raw bytes *and* advances the folder's checkpoint to that
UID, so a crash at any moment neither loses nor duplicates a message: what was committed is never
fetched again, what was not is fetched again on the next poll. Only after the commit is the message
marked \\Seen or moved, and fetching uses BODY.PEEK[] so reading never changes the mailbox by itself.
"""

from __future__ import annotations

import contextlib
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, IMAPClientAbortError, IMAPClientError, LoginError
from sqlalchemy import Select, select

from triage.config import ImapConfig, MailboxConfig, parse_duration, read_secret
from triage.db import Database
from triage.errors import UserError
from triage.flows.intake import Envelope, accept_email
from triage.inbox.tables import ImapCheckpoint

log = logging.getLogger(__name__)

ClientFactory = Callable[..., IMAPClient]

BATCH_SIZE = 50
# RFC 2177: servers may drop an IDLE connection after 29 minutes, so re-issue it well before.
IDLE_REFRESH_SECONDS = 25 * 60
IDLE_CHECK_SECONDS = 2.0  # how often an IDLE wait looks at the stop event
BACKOFF_START, BACKOFF_MAX = 1.0, 300.0
# A poll interval longer than this logs out between polls instead of keeping an idle connection
# open that the server would drop (RFC 9051 §5.4: the autologout timer is at least 30 minutes).
KEEP_OPEN_SECONDS = 10 * 60
SOCKET_TIMEOUT = 60.0


class FolderChanged(ConnectionError):
    """Another poller reset the folder's checkpoint (new UIDVALIDITY) while this one was storing."""


def backoff_delay(failures: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after `failures` consecutive failures: 1 s doubling to 5 min, with ±20 % jitter."""
    base = min(BACKOFF_MAX, BACKOFF_START * 2 ** max(0, failures - 1))
    return base * (rng or random).uniform(0.8, 1.2)


def mailbox_label(address: str) -> str:
    """The mailbox as logged at info level: the local part only, never the full address."""
    return address.split("@", 1)[0]


def ssl_context(config: ImapConfig) -> ssl.SSLContext:
    """A verifying context (system CAs or `ca_file`); `verify_tls = false` turns checking off."""
    context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
    if not config.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class ImapIngestor:
    """Stores new mail of one mailbox's IMAP folder in the inbox, then marks, moves or leaves it."""

    def __init__(self, db: Database, mailbox: MailboxConfig, *, client_factory: ClientFactory | None = None,
                 batch_size: int = BATCH_SIZE) -> None:
        if mailbox.imap is None:
            raise ValueError(f"mailbox {mailbox.address} has no [imap] settings")
        self.db = db
        self.mailbox = mailbox
        self.config: ImapConfig = mailbox.imap
        self.client_factory: ClientFactory = client_factory or IMAPClient
        self.batch_size = batch_size
        self.idle_refresh = float(IDLE_REFRESH_SECONDS)
        self.idle_check = IDLE_CHECK_SECONDS
        self.label = f"{mailbox_label(mailbox.address)}/{self.config.folder}"
        self._failures = 0

    # -- public ------------------------------------------------------------------------------

    def poll_once(self) -> int:
        """Connect, store every message newer than the checkpoint, log out; returns how many were new."""
        client = self._open()
        try:
            return self._sync(client)
        finally:
            _close(client)

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set: IDLE when the server offers it, else every poll_interval; reconnect on errors."""
        interval = parse_duration(self.config.poll_interval).total_seconds()
        while not stop.is_set():
            try:
                wait = self._session(stop, interval)
            except Exception as exc:  # keep polling: the next attempt may well succeed
                self._failures += 1
                delay = backoff_delay(self._failures)
                if isinstance(exc, UserError):
                    log.error("IMAP %s: %s; retrying in %.0fs", self.label, exc, delay)
                elif isinstance(exc, (OSError, IMAPClientError, ConnectionError)):
                    log.warning("IMAP %s: connection problem (%s: %s); retrying in %.0fs",
                                self.label, type(exc).__name__, exc, delay)
                else:
                    log.exception("IMAP %s: unexpected error; retrying in %.0fs", self.label, delay)
                stop.wait(delay)
                continue
            if wait:
                stop.wait(wait)

    # -- connection --------------------------------------------------------------------------

    def _where(self) -> str:
        return f"mailbox {self.mailbox.address}"

    def _open(self) -> IMAPClient:
        """Connect, secure, log in and check that the folders exist; setup mistakes become UserError."""
        cfg = self.config
        password = read_secret(cfg.password, cfg.password_file, what=self._where()) or ""
        context = ssl_context(cfg) if cfg.security != "none" else None
        target = f"{cfg.host}:{cfg.effective_port}"
        try:
            client = self.client_factory(cfg.host, port=cfg.effective_port, ssl=cfg.security == "tls",
                                         ssl_context=context, timeout=SOCKET_TIMEOUT)
        except ssl.SSLCertVerificationError as exc:
            raise UserError(f"{self._where()}: the TLS certificate of {target} cannot be verified "
                            f"({exc.verify_message}); set imap.ca_file, or imap.verify_tls = false") from exc
        except OSError as exc:
            raise UserError(f"{self._where()}: cannot connect to IMAP server {target}: {exc}") from exc
        try:
            if cfg.security == "starttls":
                try:
                    client.starttls(context)
                except CapabilityError as exc:
                    raise UserError(f"{self._where()}: {target} does not offer STARTTLS; "
                                    "use security = 'tls' or 'none'") from exc
                except ssl.SSLCertVerificationError as exc:
                    raise UserError(f"{self._where()}: the TLS certificate of {target} cannot be verified "
                                    f"({exc.verify_message}); set imap.ca_file, or imap.verify_tls = false") from exc
            try:
                client.login(cfg.user, password)
            except LoginError as exc:
                raise UserError(f"{self._where()}: IMAP login as {cfg.user!r} on {target} failed: "
                                f"{_text(exc)}") from exc
            folders = [cfg.folder] + ([cfg.move_to] if cfg.after == "move" and cfg.move_to else [])
            for folder in folders:
                if not client.folder_exists(folder):
                    raise UserError(f"{self._where()}: IMAP folder {folder!r} does not exist on {target}")
        except BaseException:
            _close(client)
            raise
        log.info("IMAP %s: connected to %s", self.label, target)
        return client

    def _session(self, stop: threading.Event, interval: float) -> float:
        """One connection's life; returns how long to wait before the next one."""
        client = self._open()
        try:
            use_idle = self.config.idle and client.has_capability("IDLE")
            while not stop.is_set():
                self._sync(client)
                self._failures = 0
                if use_idle:
                    self._idle(client, stop)
                elif interval > KEEP_OPEN_SECONDS:
                    return interval
                else:
                    stop.wait(interval)
            return 0.0
        finally:
            _close(client)

    def _idle(self, client: IMAPClient, stop: threading.Event) -> None:
        """Wait in IDLE (RFC 2177) until the server announces mail, the refresh is due, or `stop` is set."""
        client.idle()
        started = time.monotonic()
        quick_empty = 0
        while not stop.is_set() and time.monotonic() - started < self.idle_refresh:
            asked = time.monotonic()
            responses = client.idle_check(timeout=self.idle_check)
            if _closed(responses):
                raise ConnectionError("the server closed the connection during IDLE")
            if _announces_mail(responses):
                break
            # imapclient returns [] at once when the socket hit EOF: don't spin on a dead connection.
            quick_empty = quick_empty + 1 if not responses and time.monotonic() - asked < self.idle_check / 2 else 0
            if quick_empty >= 3:
                raise ConnectionError("the IMAP connection was closed during IDLE")
        client.idle_done()

    # -- storing -----------------------------------------------------------------------------

    def _sync(self, client: IMAPClient) -> int:
        """Store every message above the checkpoint in UID order; returns how many were new."""
        cfg = self.config
        try:
            selected = client.select_folder(cfg.folder)
        except IMAPClientAbortError:  # the connection broke: not the folder's fault
            raise
        except IMAPClientError as exc:
            raise UserError(f"{self._where()}: cannot open IMAP folder {cfg.folder!r}: {_text(exc)}") from exc
        uidvalidity = int(selected[b"UIDVALIDITY"])
        last_uid = self._checkpoint(uidvalidity)
        if cfg.after == "move" and last_uid:
            self._finish_moves(client, last_uid)
        stored = 0
        while True:
            _take_exists(client)  # announcements so far are covered by the search below
            uids = sorted(u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)  # n:* gives max
            if not uids:
                if _take_exists(client):  # mail arrived while searching: look again before idling
                    continue
                break
            for start in range(0, len(uids), self.batch_size):
                batch = uids[start:start + self.batch_size]
                fetched = client.fetch(batch, ["BODY.PEEK[]"])
                done: list[int] = []
                for uid in batch:
                    raw = fetched.get(uid, {}).get(b"BODY[]")
                    if raw is None:  # expunged since the search; UIDs are never reused (RFC 3501 §2.3.1.1)
                        continue
                    outcome = self._store(uid, uidvalidity, raw)
                    last_uid = uid
                    if outcome is None:  # another poller of this folder stored it and acts on it
                        continue
                    stored += outcome
                    done.append(uid)
                if done:
                    self._after_store(client, done)
        if stored:
            log.info("IMAP %s: stored %d new message(s)", self.label, stored)
        return stored

    def _checkpoint(self, uidvalidity: int) -> int:
        """The last stored UID; a changed UIDVALIDITY starts the folder over (Message-ID dedup keeps it safe)."""
        with self.db.transaction() as session:
            cp = session.scalar(self._checkpoint_query())
            if cp is None:
                session.add(ImapCheckpoint(mailbox=self.mailbox.address, folder=self.config.folder,
                                           uidvalidity=uidvalidity, last_uid=0))
                return 0
            if cp.uidvalidity != uidvalidity:
                # RFC 3501 §2.3.1.1: the old UIDs mean nothing now. Start over; the intake door's Message-ID
                # dedup keeps the messages already stored from coming in twice.
                log.warning("IMAP %s: UIDVALIDITY changed from %s to %s; reading the folder again",
                            self.label, cp.uidvalidity, uidvalidity)
                cp.uidvalidity, cp.last_uid = uidvalidity, 0
            return int(cp.last_uid)

    def _checkpoint_query(self) -> Select[ImapCheckpoint]:
        return (select(ImapCheckpoint)
                .where(ImapCheckpoint.mailbox == self.mailbox.address, ImapCheckpoint.folder == self.config.folder)
                .with_for_update())  # PostgreSQL: pollers of one folder take turns; SQLite is serialised anyway

    def _store(self, uid: int, uidvalidity: int, raw: bytes) -> bool | None:
        """Enqueue one message and advance the checkpoint in one transaction; None if it was already past.

        Returns whether the message was new (False: the same message was already in the inbox). A message
        the intake door refuses (empty, not a message at all) is passed over and left in the folder as it is.
        """
        ref = f"{self.mailbox.address}/{self.config.folder}/{uidvalidity}:{uid}"
        origin = Envelope(extra={"mailbox": self.mailbox.address, "folder": self.config.folder, "uid": uid,
                                 "uidvalidity": uidvalidity})
        with self.db.transaction() as session:
            cp = session.scalar(self._checkpoint_query())
            if cp is None or cp.uidvalidity != uidvalidity:
                raise FolderChanged(f"the checkpoint of IMAP {self.label} changed while polling; starting over")
            if cp.last_uid >= uid:
                return None
            cp.last_uid = uid
            try:
                accepted = accept_email(session, raw, source="imap", ref=ref, envelope=origin)
            except UserError as exc:
                log.warning("IMAP %s: UID %d left in the folder, not stored: %s", self.label, uid, exc)
                return None
        return accepted.created

    # -- after storing -----------------------------------------------------------------------

    def _after_store(self, client: IMAPClient, uids: list[int]) -> None:
        if self.config.after == "seen":
            client.add_flags(uids, [b"\\Seen"], silent=True)
        elif self.config.after == "move":
            self._move(client, uids)

    def _move(self, client: IMAPClient, uids: list[int]) -> None:
        target = self.config.move_to
        if client.has_capability("MOVE"):
            client.move(uids, target)
            return
        # RFC 6851 §3.3: without MOVE, COPY then \Deleted then EXPUNGE (UID EXPUNGE when UIDPLUS
        # lets us expunge only these messages).
        client.copy(uids, target)
        client.add_flags(uids, [b"\\Deleted"], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()

    def _finish_moves(self, client: IMAPClient, last_uid: int) -> None:
        """Move messages stored before a crash that were not moved yet (they are at or below the checkpoint)."""
        left = [u for u in client.search(["UID", f"1:{last_uid}", "NOT", "DELETED"]) if u <= last_uid]
        if left:
            log.info("IMAP %s: moving %d message(s) stored earlier", self.label, len(left))
            for start in range(0, len(left), self.batch_size):
                self._move(client, left[start:start + self.batch_size])


def _text(exc: BaseException) -> str:
    value = exc.args[0] if exc.args else str(exc)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _announces_mail(responses: Iterable[Any]) -> bool:
    return any(isinstance(r, tuple) and len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT") for r in responses)


def _closed(responses: Iterable[Any]) -> bool:
    return any(isinstance(r, tuple) and r and r[0] == b"BYE" for r in responses)


def _take_exists(client: IMAPClient) -> bool:
    """Whether the server announced new mail (EXISTS) since the last call, forgetting the announcement.

    Untagged EXISTS responses that arrive with other commands' answers are kept by imaplib, not
    by IMAPClient; without looking at them, mail announced with a SEARCH answer would wait for the
    next IDLE refresh.
    """
    imap = getattr(client, "_imap", None)
    if imap is None or not hasattr(imap, "response"):
        return False
    _, data = imap.response("EXISTS")
    return bool(data and data != [None])


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection is often already gone; nothing to save
        with contextlib.suppress(Exception):
            client.shutdown()
