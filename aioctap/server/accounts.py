"""The signed-in user's routes: ``POST /fido2/logout``, ``GET /fido2/account``, ``GET /fido2/credentials``,
``PATCH`` and ``DELETE /fido2/credentials/{credential_id}``.

Each acts only on the account of the session its cookie names; another user's credential is answered
exactly as a credential that does not exist (404). Without a live session: 401. Deleting a passkey ends every
session it signed in; when that is the caller's own session, the answer also clears its cookie.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import parse
from .bodies import Account, CredentialList, CredentialRename
from .records import AccountSession, ApiError, RelyingParty, credential_summary
from .responses import account_token, check_origin, clear_account_cookie, for_relying_party, handler, ok

__all__ = ["account_routes"]


def account_routes(rp: RelyingParty) -> list[BaseRoute]:
    """The routes of the signed-in user's account."""

    async def signed_in(request: Request, *, changes: bool = False) -> AccountSession:
        if changes:
            check_origin(request, rp.server.origins)
        session = await rp.session(account_token(request))
        if session is None:
            raise ApiError("not signed in", 401)
        return session

    @handler
    async def logout(request: Request) -> Response:
        """Sign out: end the account session (answers ok without one too); refused from another site's page,
        whose form's answer could otherwise delete the cookie."""
        check_origin(request, rp.server.origins)
        await rp.end_session(account_token(request))
        response = ok()
        clear_account_cookie(response, request)
        return response

    @handler
    async def account(request: Request) -> Response:
        """The signed-in user: user name, display name and passkeys."""
        session = await signed_in(request)
        user = await rp.user(session.username)
        credentials = await rp.credential_records(session.user_handle)
        return ok(
            Account(
                status="ok",
                errorMessage="",
                username=session.username,
                displayName=str((user or {}).get("displayName") or session.username),
                credentials=[credential_summary(cid, doc) for cid, doc in credentials],
            )
        )

    @handler
    async def credentials(request: Request) -> Response:
        """The signed-in user's passkeys."""
        session = await signed_in(request)
        records = await rp.credential_records(session.user_handle)
        return ok(
            CredentialList(
                status="ok", errorMessage="", credentials=[credential_summary(cid, doc) for cid, doc in records]
            )
        )

    @handler
    async def credential(request: Request) -> Response:
        """Rename (PATCH ``{"name": ...}``) or delete (DELETE) one of the signed-in user's passkeys."""
        session = await signed_in(request, changes=True)
        cid = str(request.path_params["credential_id"])
        if request.method == "DELETE":
            await rp.delete_credential(session.user_handle, cid)
            response = ok()
            if session.credential == cid:  # this session was signed in with it: it ends too
                await rp.end_session(account_token(request))
                clear_account_cookie(response, request)
            return response
        rename, _ = await parse.declared(request, CredentialRename)
        await rp.rename_credential(session.user_handle, cid, rename.name)
        return ok()

    return [
        Route("/fido2/logout", for_relying_party(rp, logout), methods=["POST"]),
        Route("/fido2/account", for_relying_party(rp, account), methods=["GET"]),
        Route("/fido2/credentials", for_relying_party(rp, credentials), methods=["GET"]),
        Route("/fido2/credentials/{credential_id}", for_relying_party(rp, credential), methods=["PATCH", "DELETE"]),
    ]
