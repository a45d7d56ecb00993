"""List the discoverable credentials (passkeys) on an authenticator with ``async for``.

CTAP 2.1 credential management enumerates in pieces: enumerateRPsBegin, then enumerateRPsNext
once per further relying party, and the same for each RP's credentials. aioctap exposes both as
async iterators that fetch the next piece only when the loop asks for it, so a caller can stop
early (``break``) without reading the rest. The calls need a pinUvAuthToken with the
credential-management permission.

With the default ``--device virtual`` the script first gives a fresh software authenticator a PIN
and a few passkeys (through aioctap's WebAuthn client, as a browser would) so there is something
to list. With a real key (``--device hid:PATH`` or ``udp:HOST:PORT``) it only lists.

    python3 examples/enumerate_credentials.py [--device virtual] [--pin 1234]
"""

from __future__ import annotations

import argparse
import os

import anyio

from aioctap import CtapDevice, open_device
from aioctap.client import WebAuthnClient
from aioctap.ctap2 import ClientPin, CredentialManagement, Ctap2
from aioctap.webauthn import websafe_encode

# (origin, RP ID, user names) of the passkeys created on a software authenticator
SAMPLE_PASSKEYS = [
    ("https://example.com", "example.com", ["alice", "bob"]),
    ("https://shop.example.org", "shop.example.org", ["alice"]),
]

R = CredentialManagement.RESULT


async def create_sample_passkeys(device: CtapDevice, ctap: Ctap2, pin: str) -> None:
    """Give the authenticator a PIN and a few discoverable credentials."""
    if not ctap.info.options.get("clientPin"):
        await ClientPin(ctap).set_pin(pin)
    for origin, rp_id, names in SAMPLE_PASSKEYS:
        client = WebAuthnClient(device, origin, pin=pin)
        for name in names:
            await client.create(
                {
                    "rp": {"id": rp_id, "name": rp_id},
                    "user": {"id": websafe_encode(os.urandom(16)), "name": name, "displayName": name.title()},
                    "challenge": websafe_encode(os.urandom(32)),
                    "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
                    "authenticatorSelection": {"residentKey": "required"},
                }
            )


async def main(device: str = "virtual", pin: str = "1234") -> list[tuple[str, str]]:
    """Print every (RP ID, user name) on the authenticator and return them."""
    found: list[tuple[str, str]] = []
    async with open_device(device) as dev:
        ctap = await Ctap2.create(dev)
        if device.startswith("virtual"):
            await create_sample_passkeys(dev, ctap, pin)
            await ctap.get_info()  # the PIN is set now
        if not CredentialManagement.is_supported(ctap.info):
            print("this authenticator has no credential management")
            return found

        client_pin = ClientPin(ctap)
        token = await client_pin.get_pin_token(pin, ClientPin.PERMISSION.CREDENTIAL_MGMT)
        credman = CredentialManagement(ctap, client_pin.protocol, token)

        metadata = await credman.get_metadata()
        print(
            f"{metadata[R.EXISTING_CRED_COUNT]} discoverable credential(s), "
            f"room for {metadata[R.MAX_REMAINING_COUNT]} more"
        )
        async for rp in credman.rps():  # one enumerateRPs call per iteration
            rp_id = rp[R.RP]["id"]
            print(f"{rp_id}")
            async for cred in credman.credentials(rp[R.RP_ID_HASH]):  # one enumerateCredentials call each
                user = cred[R.USER]
                credential_id = websafe_encode(cred[R.CREDENTIAL_ID]["id"])
                protection = cred.get(R.CRED_PROTECT, 1)
                print(f"  {user.get('name')!s:12} {credential_id[:20]}…  credProtect={protection}")
                found.append((rp_id, str(user.get("name"))))
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="virtual", help="virtual, udp:HOST:PORT or hid:PATH")
    parser.add_argument("--pin", default="1234", help="the authenticator's PIN (set on a fresh virtual one)")
    args = parser.parse_args()
    anyio.run(lambda: main(args.device, args.pin))
