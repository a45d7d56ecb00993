"""python-fido2's own Fido2Client (over UDP to ``aioctap virtual``) against aioctap's python-fido2-shaped Fido2Server.

A python-fido2 user keeps their client and swaps the server import: options, responses (as python-fido2's objects and
as their JSON) and the two discoverable credentials all go through.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fido2.client import ClientError, DefaultClientDataCollector
from fido2.client import Fido2Client as ReferenceClient

from aioctap.server import Fido2Server

ORIGIN = "https://example.com"


def test_python_fido2_client_registers_and_authenticates(authenticator: Any) -> None:
    server = Fido2Server({"id": "example.com", "name": "Example RP"}, attestation="direct")
    with authenticator.fido2_device() as dev:
        client = ReferenceClient(dev, DefaultClientDataCollector(ORIGIN))
        credentials = []
        for name in (b"alice", b"bob"):
            options, state = server.register_begin(
                {"id": name, "name": name.decode()},
                resident_key_requirement="required",
                user_verification="discouraged",
            )
            # python-fido2's client takes our options in their JSON form (as a browser would)
            result = client.make_credential(json.loads(json.dumps(dict(options["publicKey"]))))
            auth_data = server.register_complete(state, result)  # python-fido2's RegistrationResponse object
            assert auth_data.credential_data is not None
            credentials.append(auth_data.credential_data)

        # excludeCredentials made from our AttestedCredentialData: python-fido2's client refuses, as it should
        options, _ = server.register_begin(
            {"id": b"alice", "name": "alice"}, credentials[:1], user_verification="discouraged"
        )
        with pytest.raises(ClientError) as e:
            client.make_credential(options["publicKey"])
        assert e.value.code == ClientError.ERR.DEVICE_INELIGIBLE

        options, state = server.authenticate_begin(user_verification="discouraged")
        selection = client.get_assertion(json.loads(json.dumps(dict(options["publicKey"]))))
        assertions = selection.get_assertions()
        assert len(assertions) == 2
        found = {
            server.authenticate_complete(state, credentials, dict(selection.get_response(i))).credential_id
            for i in range(len(assertions))
        }
        assert found == {c.credential_id for c in credentials}
