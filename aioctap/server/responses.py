"""ServerResponse answers and the cookies of the relying party's HTTP layer.

* ``fido2-session``: the ceremony session (options → result), consumed once;
* ``aioctap-account``: the account session of a signed-in user, an opaque random token (the store keeps
  only its SHA-256). Both are HttpOnly, SameSite=Strict, limited to ``/fido2``, and Secure over https or
  when every web origin of the relying party is https (behind a TLS proxy the app may see plain http).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..stores.base import StoreError
from .bodies import ServerResponse
from .errors import VerificationError
from .records import ApiError, RelyingParty

__all__ = [
    "ACCOUNT_COOKIE",
    "SESSION_COOKIE",
    "account_token",
    "check_origin",
    "clear_account_cookie",
    "failed",
    "handler",
    "ok",
    "set_account_cookie",
    "set_cookie",
]

log = logging.getLogger("aioctap.server")

SESSION_COOKIE = "fido2-session"
ACCOUNT_COOKIE = "aioctap-account"
COOKIE_PATH = "/fido2"


# every answer depends on the caller's cookies and may hold a session id or the user's passkeys: never cached
_NO_STORE = {"Cache-Control": "no-store"}


def ok(answer: ServerResponse | None = None) -> JSONResponse:
    """An answer as declared (:mod:`aioctap.server.bodies`); by default a bare ServerResponse with status "ok"."""
    if answer is None:
        return JSONResponse(_OK, headers=_NO_STORE)
    return JSONResponse(answer.model_dump(mode="json", exclude_unset=True), headers=_NO_STORE)


_OK = {"status": "ok", "errorMessage": ""}


def failed(message: str, status: int = 400) -> JSONResponse:
    """A ServerResponse with status "failed" (not cached either)."""
    body = ServerResponse(status="failed", errorMessage=message or "request failed")
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=_NO_STORE)


_RELYING_PARTY = "aioctap.relying_party"  # the request scope's key: see for_relying_party


def for_relying_party(
    rp: RelyingParty, endpoint: Callable[[Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    """``endpoint`` with ``rp`` kept in the request's scope, where the cookie functions find its origins: the
    ``/fido2`` routes put in any app (``fido2_routes``), not only in ``create_app``'s, set Secure cookies when
    every origin is https."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        request.scope[_RELYING_PARTY] = rp
        return await endpoint(request)

    return wrapped


def _secure(request: Request) -> bool:
    """Whether cookies get Secure: the request came over https, or every web origin of the relying party that
    serves the route (see for_relying_party; else ``app.state.relying_party``) is https: a TLS proxy may
    forward plain http without saying so."""
    if request.scope.get("scheme") == "https":
        return True
    rp = request.scope.get(_RELYING_PARTY)
    if not isinstance(rp, RelyingParty):
        rp = getattr(getattr(request.scope.get("app"), "state", None), "relying_party", None)
    # the web origins only: an app's origin (android:apk-key-hash:...) has no cookies and says nothing of the scheme
    web = [o.lower() for o in (rp.server.origins if isinstance(rp, RelyingParty) else ()) if "://" in o]
    return bool(web) and all(o.startswith("https://") for o in web)


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """An HttpOnly, SameSite=Strict cookie for ``/fido2``, Secure over https or for https origins.

    ``value`` is one of our own random ids (base64url characters, nothing to quote), so the header is
    written directly: http.cookies' quoting machinery costs more than the rest of an options call.
    """
    secure = "; Secure" if _secure(request) else ""
    response.headers.append(
        "set-cookie", f"{name}={value}; HttpOnly; Max-Age={int(max_age)}; Path={COOKIE_PATH}; SameSite=strict{secure}"
    )


def set_account_cookie(response: Response, request: Request, token: str, lifetime: float) -> None:
    """The account session's cookie (it lives no longer than the session's absolute lifetime)."""
    set_cookie(response, request, ACCOUNT_COOKIE, token, int(lifetime))


def clear_account_cookie(response: Response, request: Request) -> None:
    """Tell the browser to drop the account session's cookie."""
    response.delete_cookie(ACCOUNT_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=_secure(request))


def account_token(request: Request) -> str | None:
    """The account session token the request carries (its cookie), if any."""
    return request.cookies.get(ACCOUNT_COOKIE)


def check_origin(request: Request, origins: Sequence[str]) -> None:
    """A request that acts with the account session and names its origin must come from one of ours
    (SameSite=Strict already keeps the cookie off cross-site requests; this is the second lock)."""
    origin = request.headers.get("origin")
    if origin is not None and origin not in origins:
        raise ApiError("the request's Origin is not this relying party's", 403)


def handler(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Every outcome of ``fn`` as a ServerResponse: typed errors say what was wrong, the store's failure
    is a 503, anything else a 500 whose details go to the log only."""

    @functools.wraps(fn)
    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as e:
            return failed(str(e), e.status)
        except VerificationError as e:
            log.info("WebAuthn verification failed: %s", type(e).__name__)
            return failed(f"{type(e).__name__}: {e}")
        except StoreError as e:
            log.warning("store failed: %s", type(e).__name__)
            return failed("the credential store is unavailable", 503)
        except Exception:
            log.exception("unexpected error in %s", fn.__name__)
            return failed("internal server error", 500)

    return wrapped
