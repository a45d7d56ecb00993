"""python-fido2's extension input and output data classes (``fido2.ctap2.extensions``), in their JSON shape.

A client's extension results are these objects when read by attribute (``results.prf.results.first`` is bytes) and
their JSON form when read by item (WebAuthn L3 §10.1.3 credProps, §10.1.4 prf, §10.1.5 largeBlob; CTAP 2.1 §12.5
hmac-secret).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .._webauthn_types import _JsonDataObject

__all__ = [
    "AuthenticatorExtensionsLargeBlobInputs",
    "AuthenticatorExtensionsLargeBlobOutputs",
    "AuthenticatorExtensionsPRFInputs",
    "AuthenticatorExtensionsPRFOutputs",
    "AuthenticatorExtensionsPRFValues",
    "CredentialPropertiesOutput",
    "HMACGetSecretInput",
    "HMACGetSecretOutput",
]


@dataclass(eq=False, frozen=True)
class HMACGetSecretInput(_JsonDataObject):
    """hmacGetSecret's client input: one or two 32-byte salts."""

    salt1: bytes
    salt2: bytes | None = None


@dataclass(eq=False, frozen=True)
class HMACGetSecretOutput(_JsonDataObject):
    """hmacGetSecret's client output: one secret per salt."""

    output1: bytes
    output2: bytes | None = None


@dataclass(eq=False, frozen=True)
class AuthenticatorExtensionsPRFValues(_JsonDataObject):
    """AuthenticationExtensionsPRFValues (L3 §10.1.4): ``first`` and an optional ``second``."""

    first: bytes
    second: bytes | None = None


@dataclass(eq=False, frozen=True)
class AuthenticatorExtensionsPRFInputs(_JsonDataObject):
    """AuthenticationExtensionsPRFInputs (L3 §10.1.4)."""

    eval: AuthenticatorExtensionsPRFValues | None = None
    eval_by_credential: Mapping[str, AuthenticatorExtensionsPRFValues] | None = None


@dataclass(eq=False, frozen=True)
class AuthenticatorExtensionsPRFOutputs(_JsonDataObject):
    """AuthenticationExtensionsPRFOutputs (L3 §10.1.4)."""

    enabled: bool | None = None
    results: AuthenticatorExtensionsPRFValues | None = None


@dataclass(eq=False, frozen=True)
class AuthenticatorExtensionsLargeBlobInputs(_JsonDataObject):
    """AuthenticationExtensionsLargeBlobInputs (L3 §10.1.5)."""

    support: str | None = None
    read: bool | None = None
    write: bytes | None = None


@dataclass(eq=False, frozen=True)
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
