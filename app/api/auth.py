"""Who is calling: API keys from settings, Bearer tokens, and the signed login cookie."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.config import Settings
from app.interview.errors import InvalidInput

LOCAL_USER = "local"
COOKIE_NAME = "rapport_session"
COOKIE_MAX_AGE = 30 * 24 * 3600
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def parse_api_keys(value: str) -> dict[str, str]:
    """``key=user,key=user``, or a path to a file with one ``key=user`` a line (# comments)."""
    value = value.strip()
    if not value:
        return {}
    if "=" not in value and Path(value).expanduser().is_file():
        value = Path(value).expanduser().read_text(encoding="utf-8")
        entries = [line.split("#", 1)[0] for line in value.splitlines()]
    else:
        entries = value.replace("\n", ",").split(",")
    keys: dict[str, str] = {}
    for number, entry in enumerate(entries, start=1):
        entry = entry.strip()
        if not entry:
            continue
        key, sep, user = entry.partition("=")
        key, user = key.strip(), user.strip()
        if not sep or not key or not user:
            # Never echo the entry: it may be a key.
            raise InvalidInput(
                "api_keys", f"entry {number} is not of the form key=user (e.g. s3cret=alice)"
            )
        keys[key] = user
    return keys


def _fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass
class AccessPolicy:
    """The keys that map to users. With none, everyone is the single local user."""

    keys: dict[str, str] = field(default_factory=dict)
    secret: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        keys = parse_api_keys(settings.api_keys)
        if settings.secret_key is not None:
            secret = settings.secret_key.get_secret_value()
        else:
            # Derived from the keys, so every worker and host signs alike with no extra setting.
            material = "\n".join(sorted(f"{k}={u}" for k, u in keys.items()))
            secret = hashlib.sha256(b"rapport-cookie\n" + material.encode()).hexdigest()
        return cls(keys=keys, secret=secret)

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def user_for_key(self, candidate: str) -> str | None:
        found = None
        for key, user in self.keys.items():
            if hmac.compare_digest(key.encode(), candidate.encode()):
                found = user
        return found

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt="rapport-login")

    def cookie_for(self, key: str) -> str:
        user = self.user_for_key(key)
        assert user is not None
        return self._serializer().dumps({"u": user, "k": _fingerprint(key)})

    def user_for_cookie(self, cookie: str) -> str | None:
        try:
            data = self._serializer().loads(cookie, max_age=COOKIE_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        # The cookie names the key it came from, so removing a key signs its users out.
        for key, user in self.keys.items():
            if user == data.get("u") and hmac.compare_digest(_fingerprint(key), str(data.get("k"))):
                return user
        return None


def _same_origin(request: Request) -> bool:
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True
    return urlsplit(source).netloc == request.headers.get("host", request.url.netloc)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def resolve_user(request: Request, policy: AccessPolicy) -> str | None:
    """The caller's user, None when anonymous; raises 401 for a wrong key, 403 for CSRF."""
    if not policy.enabled:
        return LOCAL_USER
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        user = policy.user_for_key(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise _unauthorized("The API key is not valid. Send Authorization: Bearer <key>.")
        return user
    cookie = request.cookies.get(COOKIE_NAME)
    user = policy.user_for_cookie(cookie) if cookie else None
    if user is not None and request.method in _UNSAFE_METHODS and not _same_origin(request):
        # A cookie rides along on cross-site requests; Bearer keys do not.
        raise HTTPException(403, "Cross-site request refused: post from Rapport's own pages.")
    return user


def _policy(request: Request) -> AccessPolicy:
    policy: AccessPolicy = request.app.state.rapport.access
    return policy


# ``async def`` so FastAPI calls it on the event loop: a plain ``def`` dependency is sent
# through the thread pool on every request, which shows in the time to the first token.
async def current_user(request: Request) -> str:
    user = resolve_user(request, _policy(request))
    if user is None:
        raise _unauthorized(
            "Sign in first: send Authorization: Bearer <key> (keys are set in RAPPORT_API_KEYS) "
            "or log in at /login."
        )
    return user


async def optional_user(request: Request) -> str | None:
    """For pages: None sends the visitor to the login form instead of an error."""
    try:
        return resolve_user(request, _policy(request))
    except HTTPException:
        return None


CurrentUser = Annotated[str, Depends(current_user)]
OptionalUser = Annotated[str | None, Depends(optional_user)]

router = APIRouter(tags=["access"])


def _safe_next(target: str | None) -> str:
    # Only paths on this site, so the login form cannot be used to bounce people elsewhere.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.post("/login", status_code=303, response_class=RedirectResponse)
def login(
    request: Request,
    key: Annotated[str, Form(description="your API key")] = "",
    next: Annotated[str, Form(description="where to go after logging in")] = "/",
) -> RedirectResponse:
    """Check the key from the login form and set a signed, HttpOnly, SameSite cookie."""
    policy = _policy(request)
    target = _safe_next(next)
    if not policy.enabled:
        return RedirectResponse(target, status_code=303)
    if not _same_origin(request):
        raise HTTPException(403, "Cross-site login refused: use Rapport's own login form.")
    if policy.user_for_key(key.strip()) is None:
        return RedirectResponse(f"/login?error=invalid-key&next={quote(target)}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        policy.cookie_for(key.strip()),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout", status_code=303, response_class=RedirectResponse)
def logout(request: Request) -> RedirectResponse:
    if not _same_origin(request):
        raise HTTPException(403, "Cross-site logout refused.")
    response = RedirectResponse("/login" if _policy(request).enabled else "/", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response
