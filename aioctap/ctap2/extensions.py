"""Client-side CTAP2 extensions (CTAP 2.1 §12, WebAuthn L3 §10): python-fido2's ``fido2.ctap2.extensions`` names.

A :class:`Ctap2Extension` looks at the WebAuthn options (their JSON form: ``extensions`` members hold
base64url strings or bytes) and, when it applies, returns a single-use processor. The client asks every
processor for its pinUvAuthToken ``permissions``, then for the authenticator ``prepare_inputs`` and,
after the call, for the client extension outputs ``prepare_outputs`` (JSON form: byte strings as
base64url). Unlike python-fido2, the methods that may talk to the device are coroutines.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, unique
from typing import Any, ClassVar

from .._webauthn_types import _JsonDataObject
from ..webauthn import WebAuthnDataError, websafe_decode, websafe_encode
from .base import AssertionResponse, AttestationResponse, Ctap2
from .blob import LargeBlobs
from .model import OPTION
from .pin import ClientPin, PinProtocol, PinProtocolError

__all__ = [
    "AuthenticationExtensionProcessor",
    "AuthenticatorExtensionsLargeBlobInputs",
    "AuthenticatorExtensionsLargeBlobOutputs",
    "AuthenticatorExtensionsPRFInputs",
    "AuthenticatorExtensionsPRFOutputs",
    "AuthenticatorExtensionsPRFValues",
    "CredBlobExtension",
    "CredPropsExtension",
    "CredProtectExtension",
    "CredentialPropertiesOutput",
    "Ctap2Extension",
    "ExtensionError",
    "ExtensionProcessor",
    "HMACGetSecretInput",
    "HMACGetSecretOutput",
    "HmacSecretExtension",
    "LargeBlobExtension",
    "MinPinLengthExtension",
    "RegistrationExtensionProcessor",
    "ThirdPartyPaymentExtension",
    "default_extensions",
]


# -- python-fido2's extension input and output data classes --------------------------------------------------------
# A client's extension results are these objects when read by attribute (``results.prf.results.first`` is bytes) and
# their JSON form when read by item (WebAuthn L3 §10.1.3 credProps, §10.1.4 prf, §10.1.5 largeBlob; CTAP 2.1 §12.5
# hmac-secret).


@dataclass(eq=False, frozen=True, repr=False)  # the repr hides the secrets
class HMACGetSecretInput(_JsonDataObject):
    """hmacGetSecret's client input: one or two 32-byte salts."""

    salt1: bytes
    salt2: bytes | None = None


@dataclass(eq=False, frozen=True, repr=False)  # the repr hides the secrets
class HMACGetSecretOutput(_JsonDataObject):
    """hmacGetSecret's client output: one secret per salt."""

    output1: bytes
    output2: bytes | None = None


@dataclass(eq=False, frozen=True, repr=False)  # the repr hides the secrets
class AuthenticatorExtensionsPRFValues(_JsonDataObject):
    """AuthenticationExtensionsPRFValues (L3 §10.1.4): ``first`` and an optional ``second``."""

    first: bytes
    second: bytes | None = None


@dataclass(eq=False, frozen=True, repr=False)  # the repr hides the secrets
class AuthenticatorExtensionsPRFInputs(_JsonDataObject):
    """AuthenticationExtensionsPRFInputs (L3 §10.1.4)."""

    eval: AuthenticatorExtensionsPRFValues | None = None
    eval_by_credential: Mapping[str, AuthenticatorExtensionsPRFValues] | None = None


@dataclass(eq=False, frozen=True, repr=False)  # the repr hides the secrets
class AuthenticatorExtensionsPRFOutputs(_JsonDataObject):
    """AuthenticationExtensionsPRFOutputs (L3 §10.1.4)."""

    enabled: bool | None = None
    results: AuthenticatorExtensionsPRFValues | None = None


@dataclass(eq=False, frozen=True, repr=False)  # the repr hides the secrets
class AuthenticatorExtensionsLargeBlobInputs(_JsonDataObject):
    """AuthenticationExtensionsLargeBlobInputs (L3 §10.1.5)."""

    support: str | None = None
    read: bool | None = None
    write: bytes | None = None


@dataclass(eq=False, frozen=True, repr=False)  # the repr hides the secrets
class AuthenticatorExtensionsLargeBlobOutputs(_JsonDataObject):
    """AuthenticationExtensionsLargeBlobOutputs (L3 §10.1.5)."""

    supported: bool | None = None
    blob: bytes | None = None
    written: bool | None = None


@dataclass(eq=False, frozen=True)
class CredentialPropertiesOutput(_JsonDataObject):
    """CredentialPropertiesOutput (L3 §10.1.3): whether the credential is discoverable."""

    rk: bool | None = None


# client output name -> its data class (for the attribute form of the results)
OUTPUT_CLASSES: dict[str, type[_JsonDataObject]] = {
    "hmacGetSecret": HMACGetSecretOutput,
    "prf": AuthenticatorExtensionsPRFOutputs,
    "largeBlob": AuthenticatorExtensionsLargeBlobOutputs,
    "credProps": CredentialPropertiesOutput,
}


class ExtensionError(ValueError):
    """Extension inputs that cannot be processed (bad type, bad length, unsupported but required)."""


def _bytes(value: Any, what: str) -> bytes:
    """A byte string from the options: bytes as is, or a base64url string (the JSON form)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return websafe_decode(value)
        except (WebAuthnDataError, ValueError):
            raise ExtensionError(f"extension input {what} is not valid base64url") from None
    raise ExtensionError(f"extension input {what} must be bytes or a base64url string")


def _mapping(value: Any, what: str) -> Mapping[str, object] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ExtensionError(f"extension input {what} must be an object")
    return value


def _client_inputs(options: Mapping[str, object]) -> Mapping[str, object]:
    return _mapping(options.get("extensions"), "extensions") or {}


_NO_PERMISSION = ClientPin.PERMISSION(0)


class ExtensionProcessor(abc.ABC):  # noqa: B024 - a base holding shared state, not an interface
    """Processing state of one extension for one request.

    ``permissions``: the pinUvAuthToken permissions the extension needs; ``inputs``/``outputs``: the
    authenticator inputs and client outputs returned when the prepare methods are not overridden.
    """

    def __init__(
        self,
        permissions: ClientPin.PERMISSION = _NO_PERMISSION,
        inputs: dict[str, object] | None = None,
        outputs: dict[str, object] | None = None,
    ) -> None:
        self.permissions = permissions
        self._inputs = inputs
        self._outputs = outputs

    def __repr__(self) -> str:
        return f"{type(self).__name__}(permissions={self.permissions!r})"


class RegistrationExtensionProcessor(ExtensionProcessor):
    """Extension processing for one makeCredential."""

    async def prepare_inputs(self, pin_token: bytes | None) -> dict[str, object] | None:
        """Authenticator extension inputs."""
        return self._inputs

    async def prepare_outputs(self, response: AttestationResponse, pin_token: bytes | None) -> dict[str, object] | None:
        """Client extension outputs (JSON form)."""
        return self._outputs


class AuthenticationExtensionProcessor(ExtensionProcessor):
    """Extension processing for one getAssertion."""

    async def prepare_inputs(
        self, selected: Mapping[str, object] | None, pin_token: bytes | None
    ) -> dict[str, object] | None:
        """Authenticator extension inputs; ``selected`` is the allowed credential the device holds, if known."""
        return self._inputs

    async def prepare_outputs(self, response: AssertionResponse, pin_token: bytes | None) -> dict[str, object] | None:
        """Client extension outputs (JSON form)."""
        return self._outputs


class Ctap2Extension(abc.ABC):  # noqa: B024 - a base with defaults, as python-fido2's
    """A client-side extension, reusable across requests."""

    NAME: ClassVar[str] = ""

    def is_supported(self, ctap: Ctap2) -> bool:
        """Whether the authenticator supports the extension: by default, it lists :attr:`NAME` in getInfo."""
        return self.NAME in ctap.info.extensions

    async def make_credential(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> RegistrationExtensionProcessor | None:
        """Start processing for a registration (None: the extension does not apply)."""
        return None

    async def get_assertion(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> AuthenticationExtensionProcessor | None:
        """Start processing for an authentication (None: the extension does not apply)."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# -- hmac-secret / prf -------------------------------------------------------------------------------


def _prf_salt(secret: bytes) -> bytes:
    return hashlib.sha256(b"WebAuthn PRF\x00" + secret).digest()


def _prf_values(
    value: Any, what: str, first: str = "first", second: str = "second"
) -> tuple[bytes, bytes | None] | None:
    """A prf values pair (first, second) or hmacGetSecret's (salt1, salt2) as bytes; None when ``value`` is."""
    values = _mapping(value, what)
    if values is None:
        return None
    if first not in values:
        raise ExtensionError(f"extension input {what} has no {first!r}")
    value2 = values.get(second)
    return _bytes(values[first], f"{what}.{first}"), None if value2 is None else _bytes(value2, f"{what}.{second}")


def _hmac_salts(
    inputs: Mapping[str, object],
    prf: bool,
    allow_hmac: bool,
    allow_list: Any,
    selected: Mapping[str, Any] | None,
) -> tuple[bytes, bytes] | None:
    """The (salt1, salt2 or b"") to send, from prf.eval / evalByCredential or hmacGetSecret."""
    if prf:
        prf_in = _mapping(inputs.get("prf"), "prf") or {}
        secrets = _prf_values(prf_in.get("eval"), "prf.eval")
        by_cred = _mapping(prf_in.get("evalByCredential"), "prf.evalByCredential")
        if by_cred:
            if not allow_list:
                raise ExtensionError("prf.evalByCredential requires allowCredentials")
            ids = {websafe_encode(c["id"]) for c in allow_list}
            if not ids.issuperset(by_cred):
                raise ExtensionError("prf.evalByCredential names a credential that is not in allowCredentials")
            if selected is not None:
                key = websafe_encode(selected["id"])
                if key in by_cred:
                    secrets = _prf_values(by_cred[key], "prf.evalByCredential value")
        if secrets is None:
            return None
        salts = _prf_salt(secrets[0]), b"" if secrets[1] is None else _prf_salt(secrets[1])
    elif allow_hmac and inputs.get("hmacGetSecret") is not None:
        salt1, salt2 = _prf_values(inputs["hmacGetSecret"], "hmacGetSecret", "salt1", "salt2") or (b"", None)
        salts = salt1, salt2 or b""
    else:
        return None
    if len(salts[0]) != HmacSecretExtension.SALT_LEN or len(salts[1]) not in (0, HmacSecretExtension.SALT_LEN):
        raise ExtensionError("hmac-secret salts must be 32 bytes each")
    return salts


_HMAC_OUTPUT_NAMES = ("hmacCreateSecret", "hmacGetSecret", "output1", "output2")


def _hmac_outputs(enabled: bool | None, decrypted: bytes | None, prf: bool) -> dict[str, object] | None:
    # the same outputs under prf's names (WebAuthn L3 §10.1.4) or hmac-secret's (CTAP 2.1 §12.5)
    names = ("enabled", "results", "first", "second") if prf else _HMAC_OUTPUT_NAMES
    enabled_name, results_name, first_name, second_name = names
    outputs: dict[str, object] = {} if enabled is None else {enabled_name: enabled}
    if decrypted:  # the first salt's output, then the second's when there were two salts
        first, second = decrypted[: HmacSecretExtension.SALT_LEN], decrypted[HmacSecretExtension.SALT_LEN :]
        values = {first_name: websafe_encode(first)}
        if second:
            values[second_name] = websafe_encode(second)
        outputs[results_name] = values
    if not outputs:
        return None
    return {"prf": outputs} if prf else outputs


def _decrypt_hmac(pin_protocol: PinProtocol, shared: bytes, value: Any) -> bytes:
    if not isinstance(value, bytes):
        raise ExtensionError("authenticator's hmac-secret output is not a byte string")
    try:
        return pin_protocol.decrypt(shared, value)
    except PinProtocolError as e:
        raise ExtensionError(f"authenticator's hmac-secret output cannot be decrypted: {e}") from None


class HmacSecretExtension(Ctap2Extension):
    """prf (WebAuthn L3 §10.1.4) over hmac-secret (CTAP 2.1 §12.5), and hmacCreateSecret/hmacGetSecret.

    ``allow_hmac_secret``: also accept the raw hmacCreateSecret/hmacGetSecret inputs (python-fido2
    accepts only prf by default).
    """

    NAME = "hmac-secret"
    MC_NAME = "hmac-secret-mc"
    SALT_LEN = 32

    def __init__(self, allow_hmac_secret: bool = False) -> None:
        self._allow_hmac_secret = allow_hmac_secret

    def __repr__(self) -> str:
        return f"HmacSecretExtension(allow_hmac_secret={self._allow_hmac_secret})"

    async def make_credential(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> RegistrationExtensionProcessor | None:
        """Enable hmac-secret for a prf or hmacCreateSecret input; with hmac-secret-mc, evaluate the PRF at creation."""
        c_inputs = _client_inputs(options)
        prf = c_inputs.get("prf") is not None
        hmac = self._allow_hmac_secret and c_inputs.get("hmacCreateSecret") is True
        if not (pin_protocol and self.is_supported(ctap) and (prf or hmac)):
            return None
        inputs: dict[str, object] = {self.NAME: True}
        shared: bytes | None = None
        if self.MC_NAME in ctap.info.extensions:
            salts = _hmac_salts(c_inputs, prf, hmac, None, None)
            if salts:
                key_agreement, shared = await ClientPin(ctap, pin_protocol)._get_shared_secret()
                salt_enc = pin_protocol.encrypt(shared, salts[0] + salts[1])
                salt_auth = pin_protocol.authenticate(shared, salt_enc)
                inputs[self.MC_NAME] = {1: key_agreement, 2: salt_enc, 3: salt_auth, 4: pin_protocol.VERSION}
        protocol = pin_protocol
        name, mc_name = self.NAME, self.MC_NAME

        class Processor(RegistrationExtensionProcessor):
            async def prepare_outputs(
                self, response: AttestationResponse, pin_token: bytes | None
            ) -> dict[str, object] | None:
                extensions = response.auth_data.extensions or {}
                enabled = extensions.get(name) is True
                value = extensions.get(mc_name)
                decrypted = _decrypt_hmac(protocol, shared, value) if value is not None and shared else None
                return _hmac_outputs(enabled, decrypted, prf)

        return Processor(inputs=inputs)

    async def get_assertion(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> AuthenticationExtensionProcessor | None:
        """Evaluate the PRF (prf.eval / evalByCredential, or hmacGetSecret): salts encrypted to the shared secret."""
        c_inputs = _client_inputs(options)
        prf_in = _mapping(c_inputs.get("prf"), "prf")
        prf = prf_in is not None and (prf_in.get("eval") is not None or bool(prf_in.get("evalByCredential")))
        hmac = self._allow_hmac_secret and c_inputs.get("hmacGetSecret") is not None
        if not (pin_protocol and self.is_supported(ctap) and (prf or hmac)):
            return None
        allow_list = options.get("allowCredentials") or None
        _hmac_salts(c_inputs, prf, hmac, allow_list, None)  # reject bad inputs before touching the device
        key_agreement, shared = await ClientPin(ctap, pin_protocol)._get_shared_secret()
        protocol = pin_protocol
        name = self.NAME

        class Processor(AuthenticationExtensionProcessor):
            async def prepare_inputs(
                self, selected: Mapping[str, object] | None, pin_token: bytes | None
            ) -> dict[str, object] | None:
                salts = _hmac_salts(c_inputs, prf, hmac, allow_list, selected)
                if not salts:
                    return None
                salt_enc = protocol.encrypt(shared, salts[0] + salts[1])
                salt_auth = protocol.authenticate(shared, salt_enc)
                return {name: {1: key_agreement, 2: salt_enc, 3: salt_auth, 4: protocol.VERSION}}

            async def prepare_outputs(
                self, response: AssertionResponse, pin_token: bytes | None
            ) -> dict[str, object] | None:
                value = (response.auth_data.extensions or {}).get(name)
                decrypted = _decrypt_hmac(protocol, shared, value) if value is not None else None
                return _hmac_outputs(None, decrypted, prf)

        return Processor()


# -- largeBlob ------------------------------------------------------------------------------------------


class LargeBlobExtension(Ctap2Extension):
    """largeBlob (WebAuthn L3 §10.1.5) over largeBlobKey (CTAP 2.1 §12.3) and authenticatorLargeBlobs."""

    NAME = "largeBlobKey"

    def is_supported(self, ctap: Ctap2) -> bool:
        """Whether the authenticator lists largeBlobKey and has the largeBlobs option."""
        return self.NAME in ctap.info.extensions and bool(ctap.info.options.get(OPTION.LARGE_BLOBS))

    async def make_credential(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> RegistrationExtensionProcessor | None:
        """largeBlob.support at registration: ask for a largeBlobKey; ``required`` fails when unsupported."""
        data = _mapping(_client_inputs(options).get("largeBlob"), "largeBlob")
        if data is None:
            return None
        if data.get("read") or data.get("write") is not None:
            raise ExtensionError("largeBlob read/write are not allowed when creating a credential")
        support = data.get("support", "preferred")
        if support not in ("required", "preferred"):
            raise ExtensionError("largeBlob.support must be 'required' or 'preferred'")
        supported = self.is_supported(ctap)
        if support == "required" and not supported:
            raise ExtensionError("the authenticator does not support large blob storage")
        if not supported:
            return RegistrationExtensionProcessor(outputs={"largeBlob": {"supported": False}})

        class Processor(RegistrationExtensionProcessor):
            async def prepare_outputs(
                self, response: AttestationResponse, pin_token: bytes | None
            ) -> dict[str, object] | None:
                return {"largeBlob": {"supported": response.large_blob_key is not None}}

        return Processor(inputs={self.NAME: True})

    async def get_assertion(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> AuthenticationExtensionProcessor | None:
        """largeBlob.read / largeBlob.write: fetch the largeBlobKey, then read or write the blob array."""
        data = _mapping(_client_inputs(options).get("largeBlob"), "largeBlob")
        if data is None:
            return None
        read = data.get("read") is True
        write = None if data.get("write") is None else _bytes(data["write"], "largeBlob.write")
        if data.get("support") is not None or (read and write is not None):
            raise ExtensionError("largeBlob on get takes either read or write")
        if not self.is_supported(ctap):
            raise ExtensionError("the authenticator does not support large blob storage")

        class Processor(AuthenticationExtensionProcessor):
            async def prepare_outputs(
                self, response: AssertionResponse, pin_token: bytes | None
            ) -> dict[str, object] | None:
                key = response.large_blob_key
                if read:
                    blob = await LargeBlobs(ctap).get_blob(key) if key else None
                    return {"largeBlob": {"blob": websafe_encode(blob)} if blob is not None else {}}
                if write is not None:
                    if not key:
                        return {"largeBlob": {"written": False}}
                    await LargeBlobs(ctap, pin_protocol, pin_token).put_blob(key, write)
                    return {"largeBlob": {"written": True}}
                return None

        permissions = ClientPin.PERMISSION.LARGE_BLOB_WRITE if write is not None else ClientPin.PERMISSION(0)
        return Processor(permissions, inputs={self.NAME: True})


# -- credBlob, credProtect, minPinLength, credProps ----------------------------------------------------------


class CredBlobExtension(Ctap2Extension):
    """credBlob (CTAP 2.1 §12.2): a small blob stored with a discoverable credential; getCredBlob reads it."""

    NAME = "credBlob"

    async def make_credential(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> RegistrationExtensionProcessor | None:
        """credBlob at registration: store the blob (at most maxCredBlobLength bytes) with the credential."""
        value = _client_inputs(options).get(self.NAME)
        if value is None or not self.is_supported(ctap):
            return None
        blob = _bytes(value, self.NAME)
        if len(blob) > (ctap.info.max_cred_blob_length or 0):
            raise ExtensionError(
                f"credBlob is {len(blob)} bytes; the authenticator stores at most {ctap.info.max_cred_blob_length or 0}"
            )
        name = self.NAME

        class Processor(RegistrationExtensionProcessor):
            async def prepare_outputs(
                self, response: AttestationResponse, pin_token: bytes | None
            ) -> dict[str, object] | None:
                return {name: (response.auth_data.extensions or {}).get(name) is True}

        return Processor(inputs={name: blob})

    async def get_assertion(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> AuthenticationExtensionProcessor | None:
        """getCredBlob: return the credential's stored blob (base64url)."""
        if _client_inputs(options).get("getCredBlob") is not True or not self.is_supported(ctap):
            return None
        name = self.NAME

        class Processor(AuthenticationExtensionProcessor):
            async def prepare_outputs(
                self, response: AssertionResponse, pin_token: bytes | None
            ) -> dict[str, object] | None:
                value = (response.auth_data.extensions or {}).get(name)
                return {"getCredBlob": websafe_encode(value if isinstance(value, bytes) else b"")}

        return Processor(inputs={name: True})


class CredProtectExtension(Ctap2Extension):
    """credProtect (CTAP 2.1 §12.1): ``credentialProtectionPolicy`` and ``enforceCredentialProtectionPolicy``."""

    @unique
    class POLICY(Enum):
        """The WebAuthn credentialProtectionPolicy strings, in the order of their CTAP values 1-3."""

        OPTIONAL = "userVerificationOptional"
        OPTIONAL_WITH_LIST = "userVerificationOptionalWithCredentialIDList"
        REQUIRED = "userVerificationRequired"

        @classmethod
        def str2int(cls, policy: str) -> int:
            """1, 2 or 3 (the CTAP value) for a WebAuthn policy string."""
            return list(cls).index(cls(policy)) + 1

    NAME = "credProtect"

    async def make_credential(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> RegistrationExtensionProcessor | None:
        """Send the credProtect level; fail when it is enforced above "optional" and unsupported."""
        inputs = _client_inputs(options)
        policy = inputs.get("credentialProtectionPolicy")
        if policy is None:
            return None
        if not isinstance(policy, str) or policy not in [p.value for p in self.POLICY]:
            raise ExtensionError(f"unknown credentialProtectionPolicy {policy!r}")
        index = self.POLICY.str2int(policy)
        if not self.is_supported(ctap):
            if inputs.get("enforceCredentialProtectionPolicy") is True and index > 1:
                raise ExtensionError("the authenticator does not support credential protection")
            return None
        return RegistrationExtensionProcessor(inputs={self.NAME: index})


class MinPinLengthExtension(Ctap2Extension):
    """minPinLength (CTAP 2.1 §12.4): the authenticator reports its minimum PIN length to allowed RPs."""

    NAME = "minPinLength"

    def is_supported(self, ctap: Ctap2) -> bool:
        # there is no key in the extensions list for this one
        """Whether the authenticator supports setMinPINLength (the extension has no getInfo entry of its own)."""
        return OPTION.SET_MIN_PIN_LENGTH in ctap.info.options

    async def make_credential(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> RegistrationExtensionProcessor | None:
        """minPinLength: true asks the authenticator to report its minimum PIN length (to allowed RPs)."""
        if self.is_supported(ctap) and _client_inputs(options).get(self.NAME) is True:
            return RegistrationExtensionProcessor(inputs={self.NAME: True})
        return None


class CredPropsExtension(Ctap2Extension):
    """credProps (WebAuthn L3 §10.1.3): tells whether the credential is client-side discoverable."""

    NAME = "credProps"

    def is_supported(self, ctap: Ctap2) -> bool:
        """Always true: credProps is answered by the client, not the authenticator."""
        return True

    async def make_credential(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> RegistrationExtensionProcessor | None:
        """credProps: report ``rk`` (whether the credential is client-side discoverable)."""
        if _client_inputs(options).get(self.NAME) is not True:
            return None
        selection = _mapping(options.get("authenticatorSelection"), "authenticatorSelection") or {}
        resident_key = selection.get("residentKey")
        if resident_key is None and selection.get("requireResidentKey") is True:
            resident_key = "required"
        rk = resident_key == "required" or (resident_key == "preferred" and bool(ctap.info.options.get(OPTION.RK)))
        return RegistrationExtensionProcessor(outputs={self.NAME: {"rk": rk}})


class ThirdPartyPaymentExtension(Ctap2Extension):
    """thirdPartyPayment (CTAP 2.2 §12): asks the authenticator to enable a credential for third-party payments
    (Secure Payment Confirmation) and, at authentication, whether it is. The WebAuthn ``payment`` input
    (``{"isPayment": true}``) turns it on; the rest of the payment extension (the ``payment.get`` client data) is
    the client's work, so, as in python-fido2, it is not among :func:`default_extensions`."""

    NAME = "thirdPartyPayment"

    @staticmethod
    def _is_payment(options: Mapping[str, object]) -> bool:
        payment = _mapping(_client_inputs(options).get("payment"), "payment") or {}
        return payment.get("isPayment") is True

    async def make_credential(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> RegistrationExtensionProcessor | None:
        """payment.isPayment: enable the new credential for third-party payments."""
        if self.is_supported(ctap) and self._is_payment(options):
            return RegistrationExtensionProcessor(inputs={self.NAME: True})
        return None

    async def get_assertion(
        self, ctap: Ctap2, options: Mapping[str, object], pin_protocol: PinProtocol | None
    ) -> AuthenticationExtensionProcessor | None:
        """payment.isPayment: ask whether the credential is enabled for third-party payments (the authenticator
        data's thirdPartyPayment output)."""
        if self.is_supported(ctap) and self._is_payment(options):
            return AuthenticationExtensionProcessor(inputs={self.NAME: True})
        return None


def default_extensions() -> list[Ctap2Extension]:
    """The extensions :class:`~aioctap.client.WebAuthnClient` processes unless told otherwise."""
    return [
        HmacSecretExtension(allow_hmac_secret=True),
        LargeBlobExtension(),
        CredBlobExtension(),
        CredProtectExtension(),
        MinPinLengthExtension(),
        CredPropsExtension(),
    ]
