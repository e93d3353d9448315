"""Password hashing (argon2) and signed bearer tokens (JWT)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import NotAuthenticated
from core.settings import AuthSettings

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(*, settings: AuthSettings, user_id: int, username: str, role: str) -> tuple[str, int]:
    """Return a signed token and its lifetime in seconds."""
    lifetime = timedelta(minutes=settings.token_minutes)
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "name": username,
        "role": role,
        "iss": settings.issuer,
        "iat": now,
        "exp": now + lifetime,
    }
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithm)
    return token, int(lifetime.total_seconds())


def decode_token(*, settings: AuthSettings, token: str) -> dict[str, object]:
    try:
        return jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            issuer=settings.issuer,
            options={"require": ["sub", "exp", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("The access token has expired; sign in again.") from exc
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("The access token is not valid.") from exc
