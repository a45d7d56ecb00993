"""The CTAP2 model (CTAP 2.1/2.2 §6), written once for the host (:mod:`aioctap.ctap2`) and the software
authenticator (:mod:`aioctap.virtual`): command bytes, parameter keys, status codes, option names,
pinUvAuthToken permissions, bio feedback codes, subcommands and the pinUvAuthParam messages.

Pure data and functions: nothing here does I/O. The enums carry python-fido2's names (the host classes expose
them as ``Ctap2.CMD``, ``ClientPin.PERMISSION``, ``FPBioEnrollment.FEEDBACK`` ...). Request parameter keys are
plain ``int`` class attributes, so the authenticator's per-request checks pay no enum lookup.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from enum import IntEnum, IntFlag, unique
from typing import Final, Required, TypedDict

from .. import cbor
from ..ctap import CtapError

__all__ = [
    "CMD",
    "COMMAND_NAMES",
    "ERR",
    "FEEDBACK",
    "LARGE_BLOBS_MESSAGE_OVERHEAD",
    "OPTION",
    "PERMISSION",
    "SUBCOMMAND_NAMES",
    "BioCmd",
    "BioParam",
    "BioRequest",
    "BioResult",
    "ClientPinCmd",
    "ClientPinRequest",
    "ClientPinResult",
    "ConfigCmd",
    "ConfigParam",
    "CredMgmtCmd",
    "CredMgmtParam",
    "CredMgmtResult",
    "CredentialDescriptor",
    "GetAssertionRequest",
    "LargeBlobsRequest",
    "MakeCredentialRequest",
    "Modality",
    "SubCommandRequest",
    "TemplateInfo",
    "UserEntity",
    "bio_enrollment_message",
    "config_message",
    "credential_management_message",
    "large_blobs_message",
]

ERR = CtapError.ERR  # the status codes (CTAP 2.1 §8.2), python-fido2's CtapError.ERR
# a largeBlobs fragment is at most maxMsgSize minus this (CTAP 2.1 §6.10.2)
LARGE_BLOBS_MESSAGE_OVERHEAD: Final = 64


@unique
class CMD(IntEnum):
    """CTAP2 command bytes (CTAP 2.1 §6), the 2.1 preview ones included."""

    MAKE_CREDENTIAL = 0x01
    GET_ASSERTION = 0x02
    GET_INFO = 0x04
    CLIENT_PIN = 0x06
    RESET = 0x07
    GET_NEXT_ASSERTION = 0x08
    BIO_ENROLLMENT = 0x09
    CREDENTIAL_MGMT = 0x0A
    SELECTION = 0x0B
    LARGE_BLOBS = 0x0C
    CONFIG = 0x0D
    BIO_ENROLLMENT_PRE = 0x40
    CREDENTIAL_MGMT_PRE = 0x41


COMMAND_NAMES: Final[Mapping[int, str]] = {
    CMD.MAKE_CREDENTIAL: "makeCredential",
    CMD.GET_ASSERTION: "getAssertion",
    CMD.GET_INFO: "getInfo",
    CMD.CLIENT_PIN: "clientPIN",
    CMD.RESET: "reset",
    CMD.GET_NEXT_ASSERTION: "getNextAssertion",
    CMD.BIO_ENROLLMENT: "bioEnrollment",
    CMD.CREDENTIAL_MGMT: "credentialManagement",
    CMD.SELECTION: "selection",
    CMD.LARGE_BLOBS: "largeBlobs",
    CMD.CONFIG: "config",
    CMD.BIO_ENROLLMENT_PRE: "bioEnrollment (preview)",
    CMD.CREDENTIAL_MGMT_PRE: "credentialManagement (preview)",
}


# -- entities in requests and responses (WebAuthn §5.4.3, §5.8.3, in CTAP's CBOR form: ids are bytes) -----------


class CredentialDescriptor(TypedDict, total=False):
    """A PublicKeyCredentialDescriptor: allowList / excludeList items, getAssertion's credential (whose id alone
    the host checks)."""

    type: str
    id: Required[bytes]
    transports: list[str]


class UserEntity(TypedDict, total=False):
    """A PublicKeyCredentialUserEntity (getAssertion's user may carry the id alone)."""

    id: bytes
    name: str
    displayName: str
    icon: str


# -- request parameter keys ----------------------------------------------------------------------------


class MakeCredentialRequest:
    """authenticatorMakeCredential parameters (CTAP 2.1 §6.1, CTAP 2.2 attestationFormatsPreference)."""

    CLIENT_DATA_HASH: Final = 0x01
    RP: Final = 0x02
    USER: Final = 0x03
    PUB_KEY_CRED_PARAMS: Final = 0x04
    EXCLUDE_LIST: Final = 0x05
    EXTENSIONS: Final = 0x06
    OPTIONS: Final = 0x07
    PIN_UV_AUTH_PARAM: Final = 0x08
    PIN_UV_AUTH_PROTOCOL: Final = 0x09
    ENTERPRISE_ATTESTATION: Final = 0x0A
    ATTESTATION_FORMATS_PREFERENCE: Final = 0x0B


class GetAssertionRequest:
    """authenticatorGetAssertion parameters (CTAP 2.1 §6.2)."""

    RP_ID: Final = 0x01
    CLIENT_DATA_HASH: Final = 0x02
    ALLOW_LIST: Final = 0x03
    EXTENSIONS: Final = 0x04
    OPTIONS: Final = 0x05
    PIN_UV_AUTH_PARAM: Final = 0x06
    PIN_UV_AUTH_PROTOCOL: Final = 0x07


class ClientPinRequest:
    """authenticatorClientPIN parameters (CTAP 2.1 §6.5.5)."""

    PIN_UV_AUTH_PROTOCOL: Final = 0x01
    SUB_COMMAND: Final = 0x02
    KEY_AGREEMENT: Final = 0x03
    PIN_UV_AUTH_PARAM: Final = 0x04
    NEW_PIN_ENC: Final = 0x05
    PIN_HASH_ENC: Final = 0x06
    PERMISSIONS: Final = 0x09
    RP_ID: Final = 0x0A


class SubCommandRequest:
    """authenticatorCredentialManagement (§6.8) and authenticatorConfig (§6.11) parameters."""

    SUB_COMMAND: Final = 0x01
    SUB_COMMAND_PARAMS: Final = 0x02
    PIN_UV_AUTH_PROTOCOL: Final = 0x03
    PIN_UV_AUTH_PARAM: Final = 0x04


class BioRequest:
    """authenticatorBioEnrollment parameters (CTAP 2.1 §6.7)."""

    MODALITY: Final = 0x01
    SUB_COMMAND: Final = 0x02
    SUB_COMMAND_PARAMS: Final = 0x03
    PIN_UV_AUTH_PROTOCOL: Final = 0x04
    PIN_UV_AUTH_PARAM: Final = 0x05
    GET_MODALITY: Final = 0x06


class LargeBlobsRequest:
    """authenticatorLargeBlobs parameters (CTAP 2.1 §6.10)."""

    GET: Final = 0x01
    SET: Final = 0x02
    OFFSET: Final = 0x03
    LENGTH: Final = 0x04
    PIN_UV_AUTH_PARAM: Final = 0x05
    PIN_UV_AUTH_PROTOCOL: Final = 0x06


class OPTION:
    """getInfo option IDs and makeCredential/getAssertion option names (CTAP 2.1 §6.4, §6.1, §6.2)."""

    PLAT: Final = "plat"
    RK: Final = "rk"
    UP: Final = "up"
    UV: Final = "uv"
    CLIENT_PIN: Final = "clientPin"
    PIN_UV_AUTH_TOKEN: Final = "pinUvAuthToken"
    CRED_MGMT: Final = "credMgmt"
    CREDENTIAL_MGMT_PREVIEW: Final = "credentialMgmtPreview"
    PER_CRED_MGMT_RO: Final = "perCredMgmtRO"
    BIO_ENROLL: Final = "bioEnroll"
    USER_VERIFICATION_MGMT_PREVIEW: Final = "userVerificationMgmtPreview"
    LARGE_BLOBS: Final = "largeBlobs"
    AUTHNR_CFG: Final = "authnrCfg"
    ALWAYS_UV: Final = "alwaysUv"
    MAKE_CRED_UV_NOT_RQD: Final = "makeCredUvNotRqd"
    SET_MIN_PIN_LENGTH: Final = "setMinPINLength"
    EP: Final = "ep"


# -- authenticatorClientPIN ----------------------------------------------------------------------------


@unique
class ClientPinCmd(IntEnum):
    """authenticatorClientPIN subCommand values (CTAP 2.1 §6.5.5), python-fido2's ``ClientPin.CMD``."""

    GET_PIN_RETRIES = 0x01
    GET_KEY_AGREEMENT = 0x02
    SET_PIN = 0x03
    CHANGE_PIN = 0x04
    GET_TOKEN_USING_PIN_LEGACY = 0x05
    GET_TOKEN_USING_UV = 0x06
    GET_UV_RETRIES = 0x07
    GET_TOKEN_USING_PIN = 0x09


@unique
class ClientPinResult(IntEnum):
    """authenticatorClientPIN response map keys (CTAP 2.1 §6.5.5), python-fido2's ``ClientPin.RESULT``."""

    KEY_AGREEMENT = 0x01
    PIN_UV_TOKEN = 0x02
    PIN_RETRIES = 0x03
    POWER_CYCLE_STATE = 0x04
    UV_RETRIES = 0x05


class PERMISSION(IntFlag):
    """pinUvAuthToken permissions (CTAP 2.1 §6.5.5.7; pcmr is CTAP 2.2's), python-fido2's ``ClientPin.PERMISSION``."""

    MAKE_CREDENTIAL = 0x01
    GET_ASSERTION = 0x02
    CREDENTIAL_MGMT = 0x04
    BIO_ENROLL = 0x08
    LARGE_BLOB_WRITE = 0x10
    AUTHENTICATOR_CFG = 0x20
    PERSISTENT_CREDENTIAL_MGMT = 0x40


# -- authenticatorCredentialManagement -----------------------------------------------------------------


@unique
class CredMgmtCmd(IntEnum):
    """authenticatorCredentialManagement subCommand values (CTAP 2.1 §6.8)."""

    GET_CREDS_METADATA = 0x01
    ENUMERATE_RPS_BEGIN = 0x02
    ENUMERATE_RPS_NEXT = 0x03
    ENUMERATE_CREDS_BEGIN = 0x04
    ENUMERATE_CREDS_NEXT = 0x05
    DELETE_CREDENTIAL = 0x06
    UPDATE_USER_INFO = 0x07


@unique
class CredMgmtParam(IntEnum):
    """authenticatorCredentialManagement subCommandParams keys (CTAP 2.1 §6.8)."""

    RP_ID_HASH = 0x01
    CREDENTIAL_ID = 0x02
    USER = 0x03


@unique
class CredMgmtResult(IntEnum):
    """authenticatorCredentialManagement response map keys (CTAP 2.1 §6.8; thirdPartyPayment CTAP 2.2)."""

    EXISTING_CRED_COUNT = 0x01
    MAX_REMAINING_COUNT = 0x02
    RP = 0x03
    RP_ID_HASH = 0x04
    TOTAL_RPS = 0x05
    USER = 0x06
    CREDENTIAL_ID = 0x07
    PUBLIC_KEY = 0x08
    TOTAL_CREDENTIALS = 0x09
    CRED_PROTECT = 0x0A
    LARGE_BLOB_KEY = 0x0B
    THIRD_PARTY_PAYMENT = 0x0C


# -- authenticatorBioEnrollment ------------------------------------------------------------------------


@unique
class Modality(IntEnum):
    """Bio modalities (CTAP 2.1 §6.7.1)."""

    FINGERPRINT = 0x01


@unique
class BioCmd(IntEnum):
    """authenticatorBioEnrollment subCommand values (CTAP 2.1 §6.7)."""

    ENROLL_BEGIN = 0x01
    ENROLL_CAPTURE_NEXT = 0x02
    ENROLL_CANCEL = 0x03
    ENUMERATE_ENROLLMENTS = 0x04
    SET_NAME = 0x05
    REMOVE_ENROLLMENT = 0x06
    GET_SENSOR_INFO = 0x07


@unique
class BioParam(IntEnum):
    """authenticatorBioEnrollment subCommandParams keys (CTAP 2.1 §6.7)."""

    TEMPLATE_ID = 0x01
    TEMPLATE_NAME = 0x02
    TIMEOUT_MS = 0x03


@unique
class BioResult(IntEnum):
    """authenticatorBioEnrollment response members (CTAP 2.1 §6.7)."""

    MODALITY = 0x01
    FINGERPRINT_KIND = 0x02
    MAX_SAMPLES_REQUIRED = 0x03
    TEMPLATE_ID = 0x04
    LAST_SAMPLE_STATUS = 0x05
    REMAINING_SAMPLES = 0x06
    TEMPLATE_INFOS = 0x07
    MAX_TEMPLATE_FRIENDLY_NAME = 0x08


@unique
class TemplateInfo(IntEnum):
    """templateInfo members (CTAP 2.1 §6.7.4)."""

    ID = 0x01
    NAME = 0x02


@unique
class FEEDBACK(IntEnum):
    """lastEnrollSampleStatus values (CTAP 2.1 §6.7.2)."""

    FP_GOOD = 0x00
    FP_TOO_HIGH = 0x01
    FP_TOO_LOW = 0x02
    FP_TOO_LEFT = 0x03
    FP_TOO_RIGHT = 0x04
    FP_TOO_FAST = 0x05
    FP_TOO_SLOW = 0x06
    FP_POOR_QUALITY = 0x07
    FP_TOO_SKEWED = 0x08
    FP_TOO_SHORT = 0x09
    FP_MERGE_FAILURE = 0x0A
    FP_EXISTS = 0x0B
    FP_DATABASE_FULL = 0x0C
    NO_USER_ACTIVITY = 0x0D
    NO_UP_TRANSITION = 0x0E

    def __str__(self) -> str:
        return f"0x{self.value:02X} - {self.name}"


# -- authenticatorConfig -------------------------------------------------------------------------------


@unique
class ConfigCmd(IntEnum):
    """authenticatorConfig subCommand values (CTAP 2.1 §6.11)."""

    ENABLE_ENTERPRISE_ATT = 0x01
    TOGGLE_ALWAYS_UV = 0x02
    SET_MIN_PIN_LENGTH = 0x03
    VENDOR_PROTOTYPE = 0xFF


@unique
class ConfigParam(IntEnum):
    """setMinPINLength subCommandParams keys (CTAP 2.1 §6.11.4; pinComplexityPolicy CTAP 2.2)."""

    NEW_MIN_PIN_LENGTH = 0x01
    MIN_PIN_LENGTH_RPIDS = 0x02
    FORCE_CHANGE_PIN = 0x03
    PIN_COMPLEXITY_POLICY = 0x04


# (command, key of its subCommand member) -> subcommand names, for logs
SUBCOMMAND_NAMES: Final[Mapping[int, tuple[int, Mapping[int, str]]]] = {
    CMD.CLIENT_PIN: (ClientPinRequest.SUB_COMMAND, {
        1: "getPINRetries", 2: "getKeyAgreement", 3: "setPIN", 4: "changePIN", 5: "getPinToken",
        6: "getPinUvAuthTokenUsingUvWithPermissions", 7: "getUVRetries", 9: "getPinUvAuthTokenUsingPinWithPermissions",
    }),
    CMD.BIO_ENROLLMENT: (BioRequest.SUB_COMMAND, _bio := {
        1: "enrollBegin", 2: "enrollCaptureNextSample", 3: "cancelCurrentEnrollment", 4: "enumerateEnrollments",
        5: "setFriendlyName", 6: "removeEnrollment", 7: "getFingerprintSensorInfo",
    }),
    CMD.CREDENTIAL_MGMT: (SubCommandRequest.SUB_COMMAND, _cm := {
        1: "getCredsMetadata", 2: "enumerateRPsBegin", 3: "enumerateRPsGetNextRP", 4: "enumerateCredentialsBegin",
        5: "enumerateCredentialsGetNextCredential", 6: "deleteCredential", 7: "updateUserInformation",
    }),
    CMD.CONFIG: (SubCommandRequest.SUB_COMMAND, {
        1: "enableEnterpriseAttestation", 2: "toggleAlwaysUv", 3: "setMinPINLength", 0xFF: "vendorPrototype",
    }),
    CMD.BIO_ENROLLMENT_PRE: (BioRequest.SUB_COMMAND, _bio),
    CMD.CREDENTIAL_MGMT_PRE: (SubCommandRequest.SUB_COMMAND, _cm),
}  # fmt: skip


# -- the messages a pinUvAuthParam authenticates --------------------------------------------------------


def _params(params: Mapping[int, object] | None) -> bytes:
    """subCommandParams as sent: their CBOR when the member is present, nothing when it is absent."""
    return b"" if params is None else cbor.dumps(params if type(params) is dict else dict(params))


def credential_management_message(sub_command: int, params: Mapping[int, object] | None) -> bytes:
    """authenticatorCredentialManagement: subCommand || subCommandParams (CTAP 2.1 §6.8)."""
    return bytes([sub_command]) + _params(params)


def bio_enrollment_message(modality: int, sub_command: int, params: Mapping[int, object] | None) -> bytes:
    """authenticatorBioEnrollment: modality || subCommand || subCommandParams (CTAP 2.1 §6.7)."""
    return bytes([modality, sub_command]) + _params(params)


def config_message(sub_command: int, params: Mapping[int, object] | None) -> bytes:
    """authenticatorConfig: 32×0xff || 0x0d || uint8(subCommand) || subCommandParams (CTAP 2.1 §6.11)."""
    return b"\xff" * 32 + b"\x0d" + bytes([sub_command & 0xFF]) + _params(params)


def large_blobs_message(offset: int, fragment: bytes) -> bytes:
    """authenticatorLargeBlobs set: 32×0xff || 0x0c 0x00 || uint32LE(offset) || SHA-256(fragment) (CTAP 2.1 §6.10.2)."""
    return b"\xff" * 32 + b"\x0c\x00" + struct.pack("<I", offset) + hashlib.sha256(fragment).digest()
