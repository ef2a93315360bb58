"""Every stored secret at once: check it can be read, or encrypt it again with the first key.

``wxqr serve`` checks before it starts (:func:`check_stored_secrets`), so a missing or
wrong ``WXQR_SECRET_KEY`` stops it with one clear message instead of failing on the first
push or login. ``wxqr db rotate-secrets`` runs :func:`rotate_secrets`: after a new key is
put first in ``WXQR_SECRET_KEY`` (``new,old``) it re-encrypts each stored secret with it,
and encrypts the plaintext ones of an older install, after which the old key can go.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select, update

from wxqr.service.admin import SECRET_KEY as SESSION_SECRET_KEY
from wxqr.service.errors import InvalidInputError
from wxqr.service.secrets_box import SecretBox, SecretsUnreadable
from wxqr.store.tables import access_tokens, accounts, settings

__all__ = ["RotationReport", "check_stored_secrets", "rotate_secrets"]

_ACCOUNT_SECRETS = (
    ("token", "the token of account"),
    ("app_secret", "the app secret of"),
    ("aes_key", "the AES key of account"),
)


@dataclass(frozen=True)
class RotationReport:
    """How many stored values :func:`rotate_secrets` wrote, by where they live."""

    account_secrets: int
    access_tokens: int
    access_tokens_dropped: int
    session_secrets: int

    @property
    def total(self) -> int:
        return self.account_secrets + self.access_tokens + self.session_secrets


def check_stored_secrets(engine: Engine, box: SecretBox) -> None:
    """Raise :class:`SecretsUnreadable` (naming the first one) unless every stored account
    secret and the session secret open with ``box``. Access tokens are not checked: one
    that no key opens is fetched again."""
    with engine.connect() as conn:
        rows = conn.execute(select(accounts).order_by(accounts.c.id)).mappings().all()
        session = conn.execute(
            select(settings.c.value).where(settings.c.key == SESSION_SECRET_KEY)
        ).scalar()
    for row in rows:
        for column, what in _ACCOUNT_SECRETS:
            box.open_optional(row[column], what=f"{what} {row['appid']}")
    if session is not None:
        box.open(str(session), what="the dashboard session secret")


def rotate_secrets(engine: Engine, box: SecretBox) -> RotationReport:
    """Encrypt every stored secret again with ``box``'s first key (one transaction).

    Account secrets and the session secret no key opens stop it with
    :class:`SecretsUnreadable` and change nothing; access tokens no key opens are cleared
    (they are fetched again). Each row is written only if it still holds what was read,
    so a server running meanwhile loses no change it made.
    """
    if not box.enabled:
        raise InvalidInputError(
            "WXQR_SECRET_KEY is not set: there is no key to encrypt the stored secrets with",
            field="WXQR_SECRET_KEY",
        )
    account_count = token_count = dropped = session_count = 0
    with engine.begin() as conn:
        for row in conn.execute(select(accounts)).mappings().all():
            for column, what in _ACCOUNT_SECRETS:
                stored = row[column]
                if stored is None:
                    continue
                fresh = box.reseal(stored, what=f"{what} {row['appid']}")
                table_column = accounts.c[column]
                done = conn.execute(
                    update(accounts)
                    .where(accounts.c.id == row["id"], table_column == stored)
                    .values({column: fresh})
                )
                account_count += done.rowcount
        session = conn.execute(
            select(settings.c.value).where(settings.c.key == SESSION_SECRET_KEY)
        ).scalar()
        if session is not None:
            fresh = box.reseal(str(session), what="the dashboard session secret")
            done = conn.execute(
                update(settings)
                .where(settings.c.key == SESSION_SECRET_KEY, settings.c.value == session)
                .values(value=fresh)
            )
            session_count += done.rowcount
        cached = conn.execute(
            select(access_tokens.c.appid, access_tokens.c.token).where(
                access_tokens.c.token.is_not(None)
            )
        ).all()
        for appid, stored in cached:
            where = (access_tokens.c.appid == appid, access_tokens.c.token == stored)
            try:
                fresh = box.reseal(stored, what=f"the access token of {appid}")
            except SecretsUnreadable:
                conn.execute(
                    update(access_tokens).where(*where).values(token=None, expires_at=None)
                )
                dropped += 1
                continue
            token_count += conn.execute(
                update(access_tokens).where(*where).values(token=fresh)
            ).rowcount
    return RotationReport(account_count, token_count, dropped, session_count)
