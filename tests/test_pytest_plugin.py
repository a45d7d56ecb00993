"""The pytest plugin (issue 18): a relying-party developer tests passkey sign-up and sign-in without hardware.

The plugin is loaded the way a user gets it, through the ``pytest11`` entry point of the installed
package, in a separate pytest run on a test file written as a user would write it.
"""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
from aioctap.server.app import create_app
from aioctap.stores.memory import MemoryStore


async def test_passkey_sign_up_then_sign_in(aioctap_webauthn_client, aioctap_http, aioctap_authenticator):
    app = create_app(MemoryStore(), origin="http://localhost:8000", otp_routes=False)
    async with aioctap_http(app) as browser:
        r = await browser.post("/fido2/attestation/options", json={"username": "alice", "displayName": "Alice"})
        credential = await aioctap_webauthn_client.create(r.json())
        r = await browser.post("/fido2/attestation/result", json=credential)
        assert r.status_code == 200, r.text
        await browser.post("/fido2/logout")
        r = await browser.post("/fido2/assertion/options", json={})
        assertion = await aioctap_webauthn_client.get(r.json())
        r = await browser.post("/fido2/assertion/result", json=assertion)
        assert r.status_code == 200 and r.json()["username"] == "alice", r.text
    assert len(aioctap_authenticator.state.credentials) == 1


async def test_each_test_gets_a_fresh_authenticator(aioctap_authenticator):
    assert not aioctap_authenticator.state.credentials


async def test_a_wrong_origin_is_refused(aioctap_webauthn_client):
    import pytest
    from aioctap.client import ClientError

    with pytest.raises(ClientError):
        await aioctap_webauthn_client.create({
            "rp": {"id": "example.com", "name": "x"}, "user": {"id": "dQ", "name": "u", "displayName": "u"},
            "challenge": "Y2hhbGxlbmdlY2hhbGxlbmdl", "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        })
"""


def test_the_plugin_is_declared_as_a_pytest11_entry_point() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("aioctap") == "aioctap.pytest_plugin", "reinstall the package: pip install -e ."


def readme_example() -> str:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme[readme.index("### Testing a relying party with pytest") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_a_user_test_suite_signs_up_and_in_with_the_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_relying_party=USER_TESTS, test_readme_example=readme_example())
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
