"""Every member of makeCredential and getAssertion is checked, whatever path its value takes.

The commands take members of the usual type at once and send anything else through the general checks;
these cases put each member in each shape that is not the usual one (absent, null, a boolean for an
integer, another type) and expect the status the general checks give, with nothing signed or stored.
(A null excludeList / allowList counts as an absent one, as it always has: not among the cases.)
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from aioctap import cbor
from aioctap.ctap import STATUS, CtapError
from aioctap.hid.protocol import CTAPHID
from aioctap.virtual import VirtualAuthenticator

ERR = CtapError.ERR
CDH = hashlib.sha256(b"client data").digest()
MISSING, TYPE = ERR.MISSING_PARAMETER, ERR.CBOR_UNEXPECTED_TYPE
ABSENT = object()  # the member is left out

MC = {
    1: CDH,
    2: {"id": "example.com", "name": "Ex"},
    3: {"id": b"u", "name": "n"},
    4: [{"type": "public-key", "alg": -7}],
}


def _with(base: dict[Any, Any], path: tuple[Any, ...], value: Any) -> dict[Any, Any]:
    """A deep copy of ``base`` with the member at ``path`` set to ``value`` (or removed: ABSENT)."""
    out = cbor.loads(cbor.dumps(base))
    target = out
    for step in path[:-1]:
        target = target[step]
    if value is ABSENT:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return dict(out)


MC_CASES: list[tuple[tuple[Any, ...], Any, CtapError.ERR]] = [
    ((1,), ABSENT, MISSING),
    ((1,), None, TYPE),
    ((1,), "text", TYPE),
    ((2,), None, TYPE),
    ((2,), [], TYPE),
    ((2, "id"), None, TYPE),
    ((2, "id"), b"bytes", TYPE),
    ((2, "name"), None, TYPE),
    ((2, "name"), 5, TYPE),
    ((2, "icon"), b"x", TYPE),
    ((3,), ABSENT, MISSING),
    ((3, "id"), ABSENT, MISSING),
    ((3, "id"), None, TYPE),
    ((3, "name"), None, TYPE),
    ((3, "displayName"), True, TYPE),
    ((3, "icon"), 1, TYPE),
    ((4,), ABSENT, MISSING),
    ((4,), {}, TYPE),
    ((4, 0), None, TYPE),
    ((4, 0, "type"), ABSENT, MISSING),
    ((4, 0, "type"), None, TYPE),
    ((4, 0, "alg"), ABSENT, MISSING),
    ((4, 0, "alg"), True, TYPE),  # a boolean is no integer
    ((4, 0, "alg"), None, TYPE),
    ((4, 0, "alg"), "-7", TYPE),
    ((5,), [None], TYPE),
    ((5,), [{"type": "public-key", "id": "text"}], TYPE),
    ((5,), [{"type": None, "id": b"x"}], TYPE),
    ((5,), [{"id": b"x"}], MISSING),
    ((5,), [{"type": "public-key"}], MISSING),
    ((6,), None, TYPE),
    ((6,), [], TYPE),
    ((7,), None, TYPE),
    ((7,), {"rk": None}, TYPE),
    ((8,), None, TYPE),
    ((8,), "text", TYPE),
    ((10,), True, TYPE),
    ((10,), None, TYPE),
    ((11,), None, TYPE),
    ((11,), "packed", TYPE),
]

GA_CASES: list[tuple[tuple[Any, ...], Any, CtapError.ERR]] = [
    ((1,), ABSENT, MISSING),
    ((1,), None, TYPE),
    ((1,), b"example.com", TYPE),
    ((2,), ABSENT, MISSING),
    ((2,), None, TYPE),
    ((2,), "text", TYPE),
    ((3,), {}, TYPE),
    ((3, 0), None, TYPE),
    ((3, 0, "id"), None, TYPE),
    ((3, 0, "id"), ABSENT, MISSING),
    ((3, 0, "type"), 1, TYPE),
    ((3, 0, "type"), ABSENT, MISSING),
    ((4,), None, TYPE),
    ((4,), [], TYPE),
    ((5,), {"up": None}, TYPE),
    ((5,), {"up": 0}, TYPE),
    ((6,), None, TYPE),
    ((6,), "text", TYPE),
]


@pytest.fixture
async def made() -> tuple[VirtualAuthenticator, dict[int, Any]]:
    auth = VirtualAuthenticator(attestation="none")
    response = await auth.handle(CTAPHID.CBOR, b"\x01" + cbor.dumps({**MC, 7: {"rk": True}}), _no_status)
    assert response[0] == 0
    auth_data = cbor.loads(response[1:])[2]
    cred_id = auth_data[55 : 55 + int.from_bytes(auth_data[53:55], "big")]
    return auth, {1: "example.com", 2: CDH, 3: [{"type": "public-key", "id": cred_id}]}


def _no_status(_: STATUS) -> None:
    pass


async def _status(auth: VirtualAuthenticator, code: int, params: dict[Any, Any]) -> int:
    return (await auth.handle(CTAPHID.CBOR, bytes([code]) + cbor.dumps(params), _no_status))[0]


@pytest.mark.parametrize(("path", "value", "expected"), MC_CASES)
async def test_make_credential_member(
    made: tuple[VirtualAuthenticator, dict[int, Any]], path: tuple[Any, ...], value: Any, expected: CtapError.ERR
) -> None:
    auth, _ = made
    count, stored = auth.state.sign_count, len(auth.state.credentials)
    assert await _status(auth, 0x01, _with(MC, path, value)) == expected
    assert (auth.state.sign_count, len(auth.state.credentials)) == (count, stored)


@pytest.mark.parametrize(("path", "value", "expected"), GA_CASES)
async def test_get_assertion_member(
    made: tuple[VirtualAuthenticator, dict[int, Any]], path: tuple[Any, ...], value: Any, expected: CtapError.ERR
) -> None:
    auth, request = made
    count = auth.state.sign_count
    assert await _status(auth, 0x02, _with(request, path, value)) == expected
    assert auth.state.sign_count == count


async def test_the_unchanged_requests_succeed(made: tuple[VirtualAuthenticator, dict[int, Any]]) -> None:
    auth, request = made
    assert await _status(auth, 0x01, MC) == 0
    assert await _status(auth, 0x02, request) == 0
    assert await _status(auth, 0x02, {1: "example.com", 2: CDH}) == 0  # the discoverable credential
    assert await _status(auth, 0x02, {**request, 4: {}, 5: {}}) == 0  # empty extensions and options maps
    assert auth.state.sign_count == 5
