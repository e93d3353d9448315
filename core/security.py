"""Password hashing (argon2) and signed bearer tokens (JWT with a key id, so keys can be rotated)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says. `token_version` must still match the user's (checked per request)."""

    user_id: int
    username: str
    role: str
    token_version: int
    jti: str
    expires_at: datetime
    # A device token (a registered phone or tablet) names its device; each request checks the device
    # has not been revoked. None for a person's sign-in token.
    device_id: int | None = None
    # A personal access token (`core.users.tokens`) names itself; None for a sign-in or device token.
    pat_id: int | None = None


def issue_token(*, settings: AuthSettings, user_id: int, username: str, role: str,
                token_version: int, device_id: int | None = None,
                lifetime: timedelta | None = None) -> tuple[str, int]:
    """Return a token signed with the newest key and its lifetime in seconds.

    `token_version` is the user's current one: bumping it on the user (disable, role change, password
    change) makes every token issued before invalid at once. `jti` names this one token for sign-out.
    A device token carries `dev` (the device's id) and its own, longer `lifetime`.
    """
    lifetime = lifetime or timedelta(minutes=settings.token_minutes)
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "name": username,
        "role": role,
        "ver": token_version,
        "jti": uuid.uuid4().hex,
        "iss": settings.issuer,
        "iat": now,
        "exp": now + lifetime,
    }
    if device_id is not None:
        claims["dev"] = device_id
    key = settings.keys[0]
    token = jwt.encode(claims, key.secret.get_secret_value(), algorithm=settings.jwt_algorithm,
                       headers={"kid": key.kid})
    return token, int(lifetime.total_seconds())


def decode_token(*, settings: AuthSettings, token: str) -> TokenClaims:
    """Verify the signature with the key the header's `kid` names (unknown or missing kid: 401)."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = next((k for k in settings.keys if k.kid == kid), None)
        if key is None:
            raise NotAuthenticated("The access token is not valid.")
        claims = jwt.decode(
            token,
            key.secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            issuer=settings.issuer,
            options={"require": ["sub", "exp", "iss", "jti", "ver"]},
        )
        return TokenClaims(user_id=int(str(claims["sub"])), username=str(claims.get("name", "")),
                           role=str(claims.get("role")), token_version=int(claims["ver"]),
                           jti=str(claims["jti"]), expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
                           device_id=int(claims["dev"]) if "dev" in claims else None)
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("The access token has expired; sign in again.") from exc
    except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
        raise NotAuthenticated("The access token is not valid.") from exc
