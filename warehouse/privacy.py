"""Pseudonyms: keyed HMAC-SHA256 of every identifier that names a person, with a key kept out of the database.

The same key gives the same pseudonym everywhere (the snapshot, the weekly report, the dashboard's
downloads), so joins by id still line up; without the key nobody can match a pseudonym to an account,
however many handles they hash. The key lives in a file of its own (`pseudonym_key_file`, generated on
first use, mode 0600) or in `COMMONGROUND_PSEUDONYM_KEY`; it is never written to a database or a log.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from warehouse.settings import Settings

PSEUDONYM_PREFIX = "member-"
POST_PREFIX = "post-"
REF_PREFIX = "ref-"
# 16 hex digits = 64 bits: among ten million accounts the chance of any two sharing one is ~3 in a million.
DIGITS = 16
PSEUDONYM = re.compile(rf"(?:{PSEUDONYM_PREFIX}|{POST_PREFIX}|{REF_PREFIX})[0-9a-f]{{{DIGITS}}}")
# Mentions inside post text name people too; they become @user.
MENTION = re.compile(r"@[A-Za-z0-9_.@-]+")
# Links can embed a handle (https://instance/@someone/123): only the host stays.
URL = re.compile(r"https?://([^/\s?#]+)\S*")
KEY_VARIABLE = "COMMONGROUND_PSEUDONYM_KEY"
KEY_BYTES = 32
MIN_KEY_CHARS = 32

log = logging.getLogger(__name__)


class PseudonymKeyError(ValueError):
    """The pseudonym key is unusable; the message names the setting or file and what to do."""


def _parse_key(text: str, where: str) -> bytes:
    """64 hex digits are the key's bytes; other text of 32+ characters is used as it is (UTF-8)."""
    text = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    if len(text) < MIN_KEY_CHARS:
        raise PseudonymKeyError(
            f"{where}: the pseudonym key is too short ({len(text)} characters); use 64 hex digits "
            f'(python -c "import secrets; print(secrets.token_hex(32))") or 32+ characters of text'
        )
    return text.encode("utf-8")


def _create_key_file(path: Path) -> None:
    """A new random key, readable by this user only; a file another process created first is kept."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")
    log.info("Generated a new pseudonym key at %s (keep it: losing it changes every pseudonym)", path)


def load_key(settings: Settings) -> bytes:
    """The pseudonym key: `COMMONGROUND_PSEUDONYM_KEY`, else the key file (generated on first use)."""
    if settings.pseudonym_key is not None:
        return _parse_key(settings.pseudonym_key.get_secret_value(), KEY_VARIABLE)
    path = settings.pseudonym_key_path
    if not path.exists():
        _create_key_file(path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise PseudonymKeyError(
            f"{path}: the pseudonym key file cannot be read ({type(exc).__name__}); fix its permissions or "
            f"set {KEY_VARIABLE}"
        ) from None
    if path.stat().st_mode & 0o077:
        log.warning("The pseudonym key file %s is readable by other users: run chmod 600 on it", path)
    return _parse_key(text, str(path))


@functools.lru_cache(maxsize=16)
def _keyed(key: bytes, kind: str) -> hmac.HMAC:
    """HMAC-SHA256 already fed with the key and `kind`: each value then costs one copy and one update."""
    return hmac.new(key, f"{kind}\x00".encode(), hashlib.sha256)


@dataclass(frozen=True)
class Pseudonyms:
    """The pseudonyms one key gives: accounts `member-…`, posts `post-…`, other references `ref-…`."""

    key: bytes = field(repr=False)

    def _digest(self, kind: str, value: str) -> str:
        mac = _keyed(self.key, kind).copy()
        mac.update(value.encode("utf-8"))
        return mac.hexdigest()[:DIGITS]

    def _map(self, prefix: str, kind: str, value: str | None) -> str | None:
        if value is None or value == "" or value != value:  # None, empty, NaN stay as they are
            return value
        value = str(value)
        if PSEUDONYM.fullmatch(value):  # already a pseudonym (a pseudonymised snapshot's id)
            return value
        return prefix + self._digest(kind, value)

    def account(self, account_id: str | None) -> str | None:
        return self._map(PSEUDONYM_PREFIX, "account", account_id)

    def post(self, post_id: str | None) -> str | None:
        return self._map(POST_PREFIX, "post", post_id)

    def ref(self, value: str | None) -> str | None:
        """Any other identifier that could lead back to a person or a post (interaction ids, cursors)."""
        return self._map(REF_PREFIX, "ref", value)

    def posts(self, post_ids: Iterable[str]) -> list[str]:
        return [str(self.post(p)) for p in post_ids]

    @staticmethod
    def text(text: str | None) -> str | None:
        """Text with links cut to their host and every @mention replaced by @user."""
        return without_mentions(URL.sub(r"[link: \1]", text)) if isinstance(text, str) else text


def pseudonyms(settings: Settings) -> Pseudonyms:
    """The pseudonyms of this deployment's key."""
    return Pseudonyms(load_key(settings))


def without_mentions(text: str) -> str:
    """Post text with every @mention replaced by `@user`, as in a pseudonymised snapshot."""
    return MENTION.sub("@user", text)


def mention_pattern(handles: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching @mentions of these handles (`@name` or `@name@instance`), any case; None
    when there are none. Used to hide mentions of accounts that opted out."""
    names = sorted({h.lstrip("@").split("@")[0].lower() for h in handles if h and h.lstrip("@")})
    if not names:
        return None
    alternatives = "|".join(re.escape(n) for n in names)
    return re.compile(rf"@(?:{alternatives})(?:@[A-Za-z0-9_.-]+)?(?![A-Za-z0-9_])", re.IGNORECASE)


def hide_mentions(text: str | None, pattern: re.Pattern[str] | None) -> str | None:
    """Text with the mentions `pattern` matches replaced by @user."""
    if pattern is None or not isinstance(text, str):
        return text
    return pattern.sub("@user", text)
