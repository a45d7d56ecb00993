"""Security key management: ``aioctap info|reset``, ``pin``, ``creds``, ``bio``, ``blobs`` and ``config``.

Every command takes ``--device ADDRESS`` (``AIOCTAP_DEVICE``; default: the first FIDO HID device). A PIN
comes from ``--pin`` or ``AIOCTAP_PIN`` for scripts, otherwise it is asked for without echo, and only
when the command needs one. PINs and tokens are never printed, not even in error messages.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import fields
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Column, Table

from ..ctap import STATUS, CtapError
from ..ctap1 import Ctap1
from ..ctap2 import ClientPin, Config, CredentialManagement, Ctap2, FPBioEnrollment, LargeBlobs
from ..ctap2.pin import PinProtocol
from ..hid.host_core import CtapHidTimeout
from ..hid.protocol import CAPABILITY
from ..webauthn import WebAuthnDataError, websafe_decode, websafe_encode
from .devices import DEVICE_ENV, resolve_address
from .errors import CliError, unwrap
from .jsonout import JsonOpt, echo_json

PIN_ENV = "AIOCTAP_PIN"
NEW_PIN_ENV = "AIOCTAP_NEW_PIN"
CREATE_TIMEOUT = 60.0  # seconds to touch the authenticator when creating a credential

DeviceOpt = Annotated[
    str | None,
    typer.Option("--device", "-d", envvar=DEVICE_ENV, help="udp:HOST:PORT, hid:PATH, virtual or virtual:STATE_FILE"),
]
PinOpt = Annotated[
    str | None,
    typer.Option("--pin", envvar=PIN_ENV, show_default=False, help="the PIN (asked without echo when needed)"),
]
NewPinOpt = Annotated[
    str | None,
    typer.Option("--new-pin", envvar=NEW_PIN_ENV, show_default=False, help="the new PIN (asked when not given)"),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")]

console = Console(soft_wrap=True, highlight=False)
err_console = Console(stderr=True, highlight=False)


class Session:
    """One command's device, its CTAP2 layer, and the PIN source."""

    def __init__(self, ctap: Ctap2, pin: str | None) -> None:
        self.ctap = ctap
        self._pin = pin
        self._told_to_touch = False

    def __repr__(self) -> str:
        return f"Session({self.ctap.device!r})"

    def on_keepalive(self, status: STATUS) -> None:
        """Keepalive callback: tell the user to touch the authenticator, once per command."""
        if status == STATUS.UPNEEDED and not self._told_to_touch:
            self._told_to_touch = True
            err_console.print("Touch your authenticator...")

    def pin(self) -> str:
        """The PIN from ``--pin``, else asked for once (hidden input)."""
        if self._pin is None:
            self._pin = typer.prompt("PIN", hide_input=True)
        return self._pin

    async def token(
        self, permissions: ClientPin.PERMISSION, rp_id: str | None = None, required: bool = True
    ) -> tuple[PinProtocol, bytes] | None:
        """A pinUvAuthToken (PIN, else built-in UV); None when the authenticator is unprotected and not ``required``."""
        info = self.ctap.info
        if info.options.get("clientPin"):
            cp = ClientPin(self.ctap)
            try:
                return cp.protocol, await cp.get_pin_token(self.pin(), permissions, rp_id)
            except CtapError as e:
                if e.code != CtapError.ERR.PIN_POLICY_VIOLATION:
                    raise
                raise CliError(
                    "the authenticator wants a new PIN first: the current one is shorter than its minimum PIN length "
                    "or a PIN change was forced",
                    "run 'aioctap pin change'",
                ) from None
        if info.options.get("uv") and ClientPin.is_token_supported(info):
            cp = ClientPin(self.ctap)
            return cp.protocol, await cp.get_uv_token(permissions, rp_id, on_keepalive=self.on_keepalive)
        if required:
            raise CliError("this needs a PIN and the authenticator has none: set one with 'aioctap pin set'")
        return None


def run(address: str | None, pin: str | None, body: Callable[[Session], Awaitable[None]]) -> None:
    """Open the device and run ``body``; failures are reported by the root command (:mod:`.errors`)."""
    from ..hid.address import open_device

    async def main() -> None:
        resolved = await resolve_address(address)
        try:
            async with open_device(resolved) as device:
                if not device.capabilities & CAPABILITY.CBOR:
                    version = await Ctap1(device).get_version()
                    raise CliError(f"{resolved} is a U2F-only ({version}) authenticator: this command needs CTAP2")
                ctap = await Ctap2.create(device)
                await body(Session(ctap, pin))
        except* TimeoutError as group:
            raise no_answer(resolved, group) from None

    try:
        anyio.run(main)
    except BaseExceptionGroup as group:
        raise unwrap(group) from None


def no_answer(address: str, group: BaseExceptionGroup[TimeoutError]) -> BaseException:
    """A timeout while opening ``address`` explained: nothing listening on a ``udp:`` address, or a silent device."""
    e = unwrap(group)
    if isinstance(e, CtapHidTimeout) and "CTAPHID_INIT" in str(e):
        if address.startswith("udp:"):
            return CliError(
                f"nothing answers at {address}",
                f"start a software authenticator there: aioctap virtual --udp {address[len('udp:') :]}",
            )
        return CliError(f"{address} does not answer", "unplug and plug in the authenticator, then retry")
    return e


def plural(count: object, noun: str) -> str:
    """``1 credential``, ``2 credentials``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _cred_id(value: str) -> bytes:
    try:
        return websafe_decode(value)
    except (WebAuthnDataError, ValueError):
        raise typer.BadParameter("expected a base64url credential id (as 'aioctap creds list' shows)") from None


def _template_id(value: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise typer.BadParameter("expected a hex template id (as 'aioctap bio list' shows)") from None


def _new_pin(value: str | None) -> str:
    return value or typer.prompt("New PIN", hide_input=True, confirmation_prompt=True)


def register(app: typer.Typer) -> None:
    """Add ``info``, ``reset``, and the ``pin``, ``creds``, ``bio``, ``blobs`` and ``config`` groups."""
    _register_basic(app)
    _register_pin(app)
    _register_creds(app)
    _register_bio(app)
    _register_blobs(app)
    _register_config(app)


def _register_basic(app: typer.Typer) -> None:
    @app.command()
    def info(device: DeviceOpt = None, as_json: JsonOpt = False) -> None:
        """Show what the authenticator supports (authenticatorGetInfo)."""

        async def body(s: Session) -> None:
            info = s.ctap.info
            retries = (await ClientPin(s.ctap).get_pin_retries())[0] if info.options.get("clientPin") else None
            if as_json:
                data: dict[str, object] = {f.name: getattr(info, f.name) for f in fields(info) if f.name != "data"}
                echo_json(data if retries is None else {**data, "pin_retries": retries})
                return
            table = Table("field", "value", title="authenticatorGetInfo")
            for f in fields(info):
                value: Any = getattr(info, f.name)
                if f.name == "data" or value is None or value == []:
                    continue
                if f.name == "options":
                    value = " ".join(f"{k}={'yes' if v else 'no'}" for k, v in sorted(value.items()))
                elif f.name == "algorithms":
                    value = ", ".join(str(a.get("alg")) for a in value)
                elif isinstance(value, list):
                    value = ", ".join(map(str, value))
                table.add_row(f.name, str(value))
            if retries is not None:
                table.add_row("pin_retries", str(retries))
            console.print(table)

        run(device, None, body)

    @app.command()
    def reset(device: DeviceOpt = None, yes: YesOpt = False) -> None:
        """Erase every credential, the PIN and all settings (authenticatorReset)."""
        if not yes:
            typer.confirm("Reset the authenticator? All its credentials are lost", abort=True)

        async def body(s: Session) -> None:
            await s.ctap.reset(on_keepalive=s.on_keepalive)
            console.print("The authenticator was reset.")

        run(device, None, body)


def _register_pin(app: typer.Typer) -> None:
    pin_app = typer.Typer(name="pin", help="Set, change and inspect the PIN.", no_args_is_help=True)
    app.add_typer(pin_app)

    def check_length(s: Session, new: str) -> None:
        if len(new) < s.ctap.info.min_pin_length:
            raise CliError(f"the PIN must have at least {s.ctap.info.min_pin_length} characters")

    @pin_app.command("set")
    def set_pin(device: DeviceOpt = None, new_pin: NewPinOpt = None) -> None:
        """Set the PIN of an authenticator that has none."""

        async def body(s: Session) -> None:
            if s.ctap.info.options.get("clientPin"):
                raise CliError("a PIN is already set: use 'aioctap pin change'")
            if "clientPin" not in s.ctap.info.options:
                raise CliError("the authenticator does not support a PIN")
            new = _new_pin(new_pin)
            check_length(s, new)
            await ClientPin(s.ctap).set_pin(new)
            console.print("PIN set.")

        run(device, None, body)

    @pin_app.command("change")
    def change_pin(device: DeviceOpt = None, pin: PinOpt = None, new_pin: NewPinOpt = None) -> None:
        """Change the PIN."""

        async def body(s: Session) -> None:
            if not s.ctap.info.options.get("clientPin"):
                raise CliError("no PIN is set: use 'aioctap pin set'")
            old = s.pin()
            new = _new_pin(new_pin)
            check_length(s, new)
            await ClientPin(s.ctap).change_pin(old, new)
            console.print("PIN changed.")

        run(device, pin, body)

    @pin_app.command("retries")
    def retries(device: DeviceOpt = None, as_json: JsonOpt = False) -> None:
        """How many PIN (and built-in UV) attempts are left."""

        async def body(s: Session) -> None:
            if not s.ctap.info.options.get("clientPin"):
                raise CliError("no PIN is set", "set one with 'aioctap pin set'")
            cp = ClientPin(s.ctap)
            left, power_cycle = await cp.get_pin_retries()
            if as_json:
                uv = await cp.get_uv_retries() if s.ctap.info.options.get("uv") else None
                echo_json({"pin_retries": left, "power_cycle_required": bool(power_cycle), "uv_retries": uv})
                return
            note = " (unplug and plug in the authenticator before the next attempt)" if power_cycle else ""
            console.print(f"PIN retries left: {left}{note}")
            if s.ctap.info.options.get("uv"):
                console.print(f"UV retries left: {await cp.get_uv_retries()}")

        run(device, None, body)


class CredProtectChoice(StrEnum):
    """credProtect levels (CTAP 2.1 §12.1) by their WebAuthn policy names."""

    optional = "optional"
    optional_with_list = "optional-with-list"
    required = "required"

    @property
    def policy(self) -> str:
        """The WebAuthn credentialProtectionPolicy string."""
        return {
            "optional": "userVerificationOptional",
            "optional-with-list": "userVerificationOptionalWithCredentialIDList",
            "required": "userVerificationRequired",
        }[self.value]


def _extension_results(outputs: Mapping[str, object], cred_protect: CredProtectChoice | None) -> list[str]:
    """What each requested extension gave, for people."""

    def flag(value: object) -> str:
        return "yes" if value is True else "no (not supported)"

    shown = []
    large = outputs.get("largeBlob")
    if isinstance(large, Mapping):
        shown.append(f"largeBlob {flag(large.get('supported'))}")
    if "hmacCreateSecret" in outputs:
        shown.append(f"hmac-secret {flag(outputs['hmacCreateSecret'])}")
    if "credBlob" in outputs:
        shown.append(f"credBlob {'stored' if outputs['credBlob'] is True else 'not stored'}")
    if cred_protect is not None:
        shown.append(f"credProtect {cred_protect.value}")
    props = outputs.get("credProps")
    if isinstance(props, Mapping) and "rk" in props:
        shown.append(f"discoverable {flag(props['rk'])}")
    return shown or ["none"]


async def _credman(s: Session, extra: ClientPin.PERMISSION | None = None) -> CredentialManagement:
    if not CredentialManagement.is_supported(s.ctap.info):
        raise CliError("the authenticator does not support credential management")
    permissions = ClientPin.PERMISSION.CREDENTIAL_MGMT
    token = await s.token(permissions | extra if extra is not None else permissions)
    assert token is not None
    return CredentialManagement(s.ctap, *token)


async def _find_credential(cm: CredentialManagement, cred_id: bytes) -> tuple[str, dict[Any, Any]]:
    """(RP ID, enumerateCredentials entry) of a discoverable credential."""
    R = CredentialManagement.RESULT
    async for rp in cm.rps():
        async for cred in cm.credentials(rp[R.RP_ID_HASH]):
            if cred[R.CREDENTIAL_ID].get("id") == cred_id:
                return str(rp[R.RP].get("id")), cred
    raise CliError("no discoverable credential with that id on the authenticator")


def _register_creds(app: typer.Typer) -> None:
    creds_app = typer.Typer(name="creds", help="Discoverable credentials (passkeys).", no_args_is_help=True)
    app.add_typer(creds_app)
    R = CredentialManagement.RESULT

    @creds_app.command("list")
    def list_creds(device: DeviceOpt = None, pin: PinOpt = None, as_json: JsonOpt = False) -> None:
        """List the discoverable credentials, by RP."""

        async def body(s: Session) -> None:
            cm = await _credman(s)
            meta = await cm.get_metadata()
            creds = []
            async for rp in cm.rps():
                async for cred in cm.credentials(rp[R.RP_ID_HASH]):
                    user = cred.get(R.USER) or {}
                    creds.append(
                        {
                            "rp_id": rp[R.RP].get("id"),
                            "rp_name": rp[R.RP].get("name"),
                            "user_id": user.get("id"),
                            "user_name": user.get("name"),
                            "display_name": user.get("displayName"),
                            "credential_id": cred[R.CREDENTIAL_ID]["id"],
                            "cred_protect": cred.get(R.CRED_PROTECT),
                            "large_blob_key": isinstance(cred.get(R.LARGE_BLOB_KEY), bytes),
                        }
                    )
            if as_json:
                echo_json(
                    {
                        "credentials": creds,
                        "existing": meta.get(R.EXISTING_CRED_COUNT),
                        "remaining": meta.get(R.MAX_REMAINING_COUNT),
                    }
                )
                return
            # a credential id is folded, never cut: it is what 'creds delete' and 'blobs' take
            table = Table("RP", "user", "display name", Column("credential id", overflow="fold"), "credProtect")
            for c in creds:
                name, display, protect = (
                    "" if v is None else str(v) for v in (c["user_name"], c["display_name"], c["cred_protect"])
                )
                table.add_row(str(c["rp_id"]), name, display, websafe_encode(c["credential_id"]), protect)
            console.print(table)
            count = meta.get(R.EXISTING_CRED_COUNT, 0)
            console.print(
                f"{plural(count, 'discoverable credential')}, room for {meta.get(R.MAX_REMAINING_COUNT, '?')} more"
            )

        run(device, pin, body)

    @creds_app.command("create")
    def create(
        user: Annotated[str, typer.Option("--user", "-u", help="the user name stored with the credential")],
        rp_id: Annotated[str, typer.Option("--rp-id", help="the relying party (origin https://RP_ID)")] = "example.com",
        display_name: Annotated[str | None, typer.Option("--display-name", help="default: the user name")] = None,
        large_blob: Annotated[
            bool, typer.Option("--large-blob/--no-large-blob", help="ask for a largeBlobKey (for 'aioctap blobs')")
        ] = True,
        hmac_secret: Annotated[
            bool, typer.Option("--hmac-secret/--no-hmac-secret", help="enable hmac-secret (the PRF extension)")
        ] = True,
        cred_blob: Annotated[
            str | None, typer.Option("--cred-blob", help="TEXT to store with the credential (credBlob, a few bytes)")
        ] = None,
        cred_protect: Annotated[
            CredProtectChoice | None,
            typer.Option("--cred-protect", help="credProtect policy: who may learn the credential exists"),
        ] = None,
        device: DeviceOpt = None,
        pin: PinOpt = None,
    ) -> None:
        """Create a discoverable credential to try things on (blobs, creds, extensions).

        The user handle is derived from RP ID and user name, so creating it again replaces the credential.
        """

        async def body(s: Session) -> None:
            from ..client import WebAuthnClient

            extensions: dict[str, object] = {"credProps": True}
            if large_blob:
                extensions["largeBlob"] = {"support": "preferred"}
            if hmac_secret:
                extensions["hmacCreateSecret"] = True
            if cred_blob is not None:
                extensions["credBlob"] = websafe_encode(cred_blob.encode())
            if cred_protect is not None:
                extensions["credentialProtectionPolicy"] = cred_protect.policy
                extensions["enforceCredentialProtectionPolicy"] = True
            client = WebAuthnClient(s.ctap.device, f"https://{rp_id}", pin=s.pin)
            handle = hashlib.sha256(f"{rp_id}\0{user}".encode()).digest()[:16]
            with anyio.fail_after(CREATE_TIMEOUT):
                created = await client.create(
                    {
                        "rp": {"id": rp_id, "name": rp_id},
                        "user": {"id": websafe_encode(handle), "name": user, "displayName": display_name or user},
                        "challenge": websafe_encode(os.urandom(32)),
                        "pubKeyCredParams": [{"type": "public-key", "alg": alg} for alg in (-7, -8, -257)],
                        "authenticatorSelection": {"residentKey": "required", "userVerification": "preferred"},
                        "extensions": extensions,
                    }
                )
            outputs = created.get("clientExtensionResults") or {}
            console.print(f"Credential created for {user!r} at {rp_id}: {created['id']}")
            console.print("extensions: " + ", ".join(_extension_results(outputs, cred_protect)))
            blob_output = outputs.get("largeBlob")
            if isinstance(blob_output, dict) and blob_output.get("supported"):
                console.print(f"try: aioctap blobs put {created['id']} FILE")

        run(device, pin, body)

    @creds_app.command("delete")
    def delete(
        credential_id: str,
        device: DeviceOpt = None,
        pin: PinOpt = None,
        yes: YesOpt = False,
    ) -> None:
        """Delete a discoverable credential (CREDENTIAL_ID as 'creds list' shows it)."""
        cred_id = _cred_id(credential_id)
        if not yes:
            typer.confirm("Delete the credential? The account it signs in to may become unreachable", abort=True)

        async def body(s: Session) -> None:
            await (await _credman(s)).delete_cred({"type": "public-key", "id": cred_id})
            console.print("Credential deleted.")

        run(device, pin, body)

    @creds_app.command("update")
    def update(
        credential_id: str,
        name: str | None = typer.Option(None, "--name", help="new user name"),
        display_name: str | None = typer.Option(None, "--display-name", help="new display name"),
        device: DeviceOpt = None,
        pin: PinOpt = None,
    ) -> None:
        """Change the user name and/or display name stored with a discoverable credential."""
        cred_id = _cred_id(credential_id)
        if name is None and display_name is None:
            raise typer.BadParameter("give --name and/or --display-name")

        async def body(s: Session) -> None:
            if not CredentialManagement.is_update_supported(s.ctap.info):
                raise CliError("the authenticator cannot update user information")
            cm = await _credman(s)
            _, cred = await _find_credential(cm, cred_id)
            user = dict(cred.get(R.USER) or {})
            if name is not None:
                user["name"] = name
            if display_name is not None:
                user["displayName"] = display_name
            await cm.update_user_info({"type": "public-key", "id": cred_id}, user)
            console.print("User information updated.")

        run(device, pin, body)


async def _bio(s: Session, template_id: str | None = None) -> FPBioEnrollment:
    """The bio enrollment handle; with ``template_id``, after checking that such a fingerprint is enrolled."""
    if not FPBioEnrollment.is_supported(s.ctap.info):
        raise CliError("the authenticator has no fingerprint enrollment")
    token = await s.token(ClientPin.PERMISSION.BIO_ENROLL)
    assert token is not None
    bio = FPBioEnrollment(s.ctap, *token)
    if template_id is not None and _template_id(template_id) not in await bio.enumerate_enrollments():
        raise CliError(f"no fingerprint with template id {template_id}", "'aioctap bio list' shows the template ids")
    return bio


def _register_bio(app: typer.Typer) -> None:
    bio_app = typer.Typer(name="bio", help="Fingerprint enrollments.", no_args_is_help=True)
    app.add_typer(bio_app)

    @bio_app.command("enroll")
    def enroll(
        name: str | None = typer.Option(None, "--name", help="a friendly name for the fingerprint"),
        timeout: int | None = typer.Option(None, "--timeout", help="per-sample timeout in milliseconds"),
        device: DeviceOpt = None,
        pin: PinOpt = None,
    ) -> None:
        """Enroll a fingerprint, showing each sample as you touch the sensor."""

        async def body(s: Session) -> None:
            bio = await _bio(s)
            sensor = await bio.get_fingerprint_sensor_info()
            total = sensor.get(FPBioEnrollment.RESULT.MAX_SAMPLES_REQUIRED)
            template_id = None
            columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
            with Progress(*columns, console=console) as progress:
                task = progress.add_task("Touch the sensor", total=total if isinstance(total, int) else None)
                async for sample in bio.enroll(timeout):
                    try:
                        feedback = FPBioEnrollment.FEEDBACK(sample.feedback).name
                    except ValueError:
                        feedback = f"0x{sample.feedback:02x}"
                    if progress.tasks[task].total is None:
                        progress.update(task, total=sample.remaining + 1)
                    done = (progress.tasks[task].total or 0) - sample.remaining
                    progress.update(task, completed=done, description=f"sample: {feedback}; touch again")
                    progress.console.print(f"sample {feedback}: {sample.remaining} more needed")
                    if sample.done:
                        template_id = sample.template_id
                        progress.update(task, description="enrolled")
            if template_id is None:
                raise CliError("the enrollment ended without a template id")
            if name:
                await bio.set_name(template_id, name)
            console.print(f"Fingerprint enrolled: template id {template_id.hex()}")

        run(device, pin, body)

    @bio_app.command("list")
    def list_enrollments(device: DeviceOpt = None, pin: PinOpt = None, as_json: JsonOpt = False) -> None:
        """List the enrolled fingerprints."""

        async def body(s: Session) -> None:
            enrollments = await (await _bio(s)).enumerate_enrollments()
            if as_json:
                echo_json({"templates": [{"template_id": t.hex(), "name": n} for t, n in enrollments.items()]})
                return
            table = Table("template id", "name")
            for template_id, friendly in enrollments.items():
                table.add_row(template_id.hex(), friendly or "")
            console.print(table)

        run(device, pin, body)

    @bio_app.command("rename")
    def rename(template_id: str, name: str, device: DeviceOpt = None, pin: PinOpt = None) -> None:
        """Give an enrolled fingerprint a new friendly name."""
        tid = _template_id(template_id)

        async def body(s: Session) -> None:
            await (await _bio(s, template_id)).set_name(tid, name)
            console.print("Fingerprint renamed.")

        run(device, pin, body)

    @bio_app.command("delete")
    def delete(template_id: str, device: DeviceOpt = None, pin: PinOpt = None, yes: YesOpt = False) -> None:
        """Remove an enrolled fingerprint (TEMPLATE_ID as 'bio list' shows it)."""
        tid = _template_id(template_id)
        if not yes:
            typer.confirm("Remove the fingerprint? It can no longer unlock the authenticator", abort=True)

        async def body(s: Session) -> None:
            await (await _bio(s, template_id)).remove_enrollment(tid)
            console.print("Fingerprint removed.")

        run(device, pin, body)


async def _blob_key(s: Session, cred_id: bytes, write: bool) -> tuple[LargeBlobs, bytes]:
    """The LargeBlobs handle (with a write token when needed) and the credential's largeBlobKey."""
    if not LargeBlobs.is_supported(s.ctap.info):
        raise CliError("the authenticator has no large blob storage")
    cm = await _credman(s, ClientPin.PERMISSION.LARGE_BLOB_WRITE if write else None)
    _, cred = await _find_credential(cm, cred_id)
    key = cred.get(CredentialManagement.RESULT.LARGE_BLOB_KEY)
    if not isinstance(key, bytes):
        raise CliError(
            "the credential has no largeBlobKey (it was not created with the largeBlob extension)",
            "make one that has: aioctap creds create --user NAME",
        )
    protocol, token = cm.pin_uv
    return (LargeBlobs(s.ctap, protocol, token) if write else LargeBlobs(s.ctap)), key


def _register_blobs(app: typer.Typer) -> None:
    blobs_app = typer.Typer(name="blobs", help="Large blobs stored for credentials.", no_args_is_help=True)
    app.add_typer(blobs_app)

    @blobs_app.command("get")
    def get(
        credential_id: str,
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="write here instead of standard output")
        ] = None,
        device: DeviceOpt = None,
        pin: PinOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Read the large blob of a discoverable credential."""
        cred_id = _cred_id(credential_id)

        async def body(s: Session) -> None:
            blobs, key = await _blob_key(s, cred_id, write=False)
            data = await blobs.get_blob(key)
            if data is None:
                raise CliError("no large blob is stored for this credential", "store one with 'aioctap blobs put'")
            if as_json:
                echo_json({"credential_id": cred_id, "size": len(data), "data": data})
                return
            if output is None:
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
            else:
                output.write_bytes(data)
                err_console.print(f"{len(data)} bytes written to {output}")

        run(device, pin, body)

    @blobs_app.command("put")
    def put(credential_id: str, source: str, device: DeviceOpt = None, pin: PinOpt = None) -> None:
        """Store SOURCE (a file, or - for standard input) as the large blob of a discoverable credential."""
        cred_id = _cred_id(credential_id)
        try:
            data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        except OSError as e:
            raise typer.BadParameter(f"cannot read {source}: {e.strerror or e}", param_hint="SOURCE") from None

        async def body(s: Session) -> None:
            blobs, key = await _blob_key(s, cred_id, write=True)
            await blobs.put_blob(key, data)
            console.print(f"{len(data)} bytes stored.")

        run(device, pin, body)

    @blobs_app.command("delete")
    def delete(credential_id: str, device: DeviceOpt = None, pin: PinOpt = None, yes: YesOpt = False) -> None:
        """Delete the large blob of a discoverable credential."""
        cred_id = _cred_id(credential_id)
        if not yes:
            typer.confirm("Delete the credential's large blob? Its data is lost", abort=True)

        async def body(s: Session) -> None:
            blobs, key = await _blob_key(s, cred_id, write=True)
            await blobs.delete_blob(key)
            console.print("Large blob deleted.")

        run(device, pin, body)


async def _config(s: Session) -> Config:
    if not Config.is_supported(s.ctap.info):
        raise CliError("the authenticator does not support authenticatorConfig")
    token = await s.token(ClientPin.PERMISSION.AUTHENTICATOR_CFG, required=False)
    return Config(s.ctap, *token) if token else Config(s.ctap)


def _register_config(app: typer.Typer) -> None:
    config_app = typer.Typer(name="config", help="Authenticator settings (authenticatorConfig).", no_args_is_help=True)
    app.add_typer(config_app)

    @config_app.command("always-uv")
    def always_uv(
        state: str = typer.Argument(..., help="on or off"), device: DeviceOpt = None, pin: PinOpt = None
    ) -> None:
        """Require user verification (PIN or fingerprint) for every operation, or not."""
        if state not in ("on", "off"):
            raise typer.BadParameter("expected 'on' or 'off'", param_hint="STATE")

        async def body(s: Session) -> None:
            if "alwaysUv" not in s.ctap.info.options:
                raise CliError("the authenticator has no alwaysUv setting")
            if bool(s.ctap.info.options.get("alwaysUv")) != (state == "on"):
                await (await _config(s)).toggle_always_uv()
            console.print(f"alwaysUv is {state}.")

        run(device, pin, body)

    @config_app.command("min-pin-length")
    def min_pin_length(
        length: int | None = typer.Argument(None, help="the new minimum (it can only grow)"),
        rp_id: Annotated[
            list[str] | None, typer.Option("--rp-id", help="an RP allowed to read it (minPinLength extension)")
        ] = None,
        force_change: bool = typer.Option(False, "--force-change", help="require a PIN change before next use"),
        device: DeviceOpt = None,
        pin: PinOpt = None,
        yes: YesOpt = False,
    ) -> None:
        """Raise the minimum PIN length, name RPs that may read it, and/or force a PIN change."""
        if length is not None and not yes:
            typer.confirm(f"Raise the minimum PIN length to {length}? Only a reset lowers it again", abort=True)

        async def body(s: Session) -> None:
            await (await _config(s)).set_min_pin_length(length, rp_id or None, force_change)
            info = await s.ctap.get_info()
            console.print(f"Minimum PIN length: {info.min_pin_length}")
            if info.force_pin_change and info.options.get("clientPin"):
                why = "a PIN change was forced" if force_change else "the current PIN is shorter than the new minimum"
                err_console.print(
                    f"[yellow]warning:[/yellow] {why}: every command that needs the PIN fails until you run "
                    "'aioctap pin change'",
                )

        run(device, pin, body)

    @config_app.command("enterprise-attestation")
    def enterprise_attestation(device: DeviceOpt = None, pin: PinOpt = None) -> None:
        """Enable enterprise attestation."""

        async def body(s: Session) -> None:
            if "ep" not in s.ctap.info.options:
                raise CliError("the authenticator does not support enterprise attestation")
            await (await _config(s)).enable_enterprise_attestation()
            console.print("Enterprise attestation enabled.")

        run(device, pin, body)
