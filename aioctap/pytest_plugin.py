"""pytest fixtures for testing passkey sign-up and sign-in in CI, without hardware.

Installed with aioctap and loaded by pytest through the ``pytest11`` entry point. The async fixtures
run under pytest-asyncio (either mode):

* ``aioctap_authenticator``: a fresh software authenticator (:class:`~aioctap.virtual.VirtualAuthenticator`);
* ``aioctap_device``: that authenticator behind the in-memory CTAPHID transport, open for the test
  (a :class:`~aioctap.virtual.VirtualHidDevice`);
* ``aioctap_origin``: the origin the browser runs at, ``"http://localhost:8000"`` unless the test
  module or a conftest overrides the fixture;
* ``aioctap_webauthn_client``: a :class:`~aioctap.client.WebAuthnClient` on that device for that origin,
  taking WebAuthn JSON options (``PublicKeyCredentialCreationOptionsJSON`` and the request variant) and
  returning what a browser's ``PublicKeyCredential.toJSON()`` gives;
* ``aioctap_http``: ``aioctap_http(app)`` opens an ``httpx.AsyncClient`` on an ASGI app at the origin
  (``async with aioctap_http(app) as browser:``), keeping cookies as a browser does.

A relying-party test then reads as the ceremony does::

    async def test_passkey_sign_up_and_in(aioctap_webauthn_client, aioctap_http):
        async with aioctap_http(my_app) as browser:
            options = (await browser.post("/register/begin", json={"username": "alice"})).json()
            credential = await aioctap_webauthn_client.create(options)
            assert (await browser.post("/register/complete", json=credential)).status_code == 200
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported when a fixture is used: loading the plugin stays cheap for every pytest run
    import httpx
    from starlette.types import ASGIApp

    from .client import WebAuthnClient
    from .virtual import VirtualAuthenticator, VirtualHidDevice

__all__ = [
    "aioctap_authenticator",
    "aioctap_device",
    "aioctap_http",
    "aioctap_origin",
    "aioctap_webauthn_client",
]

HttpClientFactory = Callable[["ASGIApp"], AbstractAsyncContextManager["httpx.AsyncClient"]]


@pytest.fixture
def aioctap_origin() -> str:
    """The origin the tests' browser runs at (override the fixture to change it)."""
    return "http://localhost:8000"


@pytest.fixture
def aioctap_authenticator() -> VirtualAuthenticator:
    """A fresh software authenticator, its state in memory (no PIN, user presence approved at once)."""
    from .virtual import VirtualAuthenticator

    return VirtualAuthenticator()


if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def aioctap_device(aioctap_authenticator: VirtualAuthenticator) -> AsyncIterator[VirtualHidDevice]:
        """``aioctap_authenticator`` behind the in-memory CTAPHID transport, open for the test.

        pytest-asyncio sets a fixture up and tears it down in different tasks, and a task group (the
        device's reader task) must be left in the task that entered it: the device is held open by a
        task of its own for the test's duration.
        """
        import asyncio

        from .virtual import open_virtual_device

        opened: asyncio.Future[VirtualHidDevice] = asyncio.get_running_loop().create_future()
        done = asyncio.Event()

        async def hold() -> None:
            try:
                async with open_virtual_device(authenticator=aioctap_authenticator) as device:
                    opened.set_result(device)
                    await done.wait()
            except Exception as e:  # before the device opened: the fixture's own error
                if opened.done():
                    raise
                opened.set_exception(e)

        holder = asyncio.create_task(hold())
        try:
            device = await opened
        except BaseException:
            await asyncio.gather(holder, return_exceptions=True)
            raise
        try:
            yield device
        finally:
            done.set()
            await holder

else:  # the plugin loads in every pytest run where aioctap is installed: say what the fixture needs

    @pytest.fixture
    def aioctap_device() -> Iterator[VirtualHidDevice]:
        """Needs pytest-asyncio (``pip install 'aioctap[test]'`` or ``pip install pytest-asyncio``)."""
        raise pytest.UsageError("the aioctap_device fixture needs pytest-asyncio: pip install pytest-asyncio")
        yield  # pragma: no cover


@pytest.fixture
def aioctap_webauthn_client(aioctap_device: VirtualHidDevice, aioctap_origin: str) -> WebAuthnClient:
    """A WebAuthn client (a browser's ``navigator.credentials``) on ``aioctap_device`` at ``aioctap_origin``."""
    from .client import WebAuthnClient

    return WebAuthnClient(aioctap_device, aioctap_origin)


@pytest.fixture
def aioctap_http(aioctap_origin: str) -> HttpClientFactory:
    """``aioctap_http(app)``: an async context manager giving an ``httpx.AsyncClient`` on the ASGI ``app``.

    Requests go to the app in process at ``aioctap_origin`` (its lifespan is not run: open the app's
    store yourself, or pass an open one); cookies are kept between requests, as a browser keeps them.
    """

    import httpx

    @asynccontextmanager
    async def client(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=aioctap_origin, headers={"Origin": aioctap_origin}
        ) as http:
            yield http

    return client
