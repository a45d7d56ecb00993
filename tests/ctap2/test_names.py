"""Name for name with python-fido2 (seeds 000/001): a python-fido2 user ports by adding ``await``."""

from __future__ import annotations

import enum

import fido2.ctap1 as t1
import fido2.ctap2 as t2
import fido2.ctap2.extensions as text
import fido2.ctap2.pin as tpin
import pytest

import aioctap.ctap1 as o1
import aioctap.ctap2 as o2
import aioctap.ctap2.extensions as oext
import aioctap.ctap2.pin as opin

PAIRS = [
    (t2.Ctap2, o2.Ctap2),
    (t2.Info, o2.Info),
    (t2.AttestationResponse, o2.AttestationResponse),
    (t2.AssertionResponse, o2.AssertionResponse),
    (tpin.ClientPin, opin.ClientPin),
    (tpin.PinProtocolV1, opin.PinProtocolV1),
    (tpin.PinProtocolV2, opin.PinProtocolV2),
    (t2.CredentialManagement, o2.CredentialManagement),
    (t2.FPBioEnrollment, o2.FPBioEnrollment),
    (t2.LargeBlobs, o2.LargeBlobs),
    (t2.Config, o2.Config),
    (t2.CaptureError, o2.CaptureError),
    (t1.Ctap1, o1.Ctap1),
    (t1.APDU, o1.APDU),
    (t1.ApduError, o1.ApduError),
    (text.Ctap2Extension, oext.Ctap2Extension),
    (text.RegistrationExtensionProcessor, oext.RegistrationExtensionProcessor),
    (text.AuthenticationExtensionProcessor, oext.AuthenticationExtensionProcessor),
    (text.HmacSecretExtension, oext.HmacSecretExtension),
    (text.LargeBlobExtension, oext.LargeBlobExtension),
    (text.CredBlobExtension, oext.CredBlobExtension),
    (text.CredProtectExtension, oext.CredProtectExtension),
    (text.MinPinLengthExtension, oext.MinPinLengthExtension),
    (text.CredPropsExtension, oext.CredPropsExtension),
]
# python-fido2's response objects are also Mappings; Info's encIdentifier/encCredStoreState helpers (CTAP 2.2)
# are not provided here
NOT_PORTED = {"get", "items", "keys", "values", "get_identifier", "get_cred_store_state"}


@pytest.mark.parametrize(("theirs", "ours"), PAIRS, ids=[t.__name__ for t, _ in PAIRS])
def test_every_public_name_exists(theirs: type, ours: type) -> None:
    names = {n for n in dir(theirs) if not n.startswith("_")} | set(getattr(theirs, "__dataclass_fields__", {}))
    ours_names = set(dir(ours)) | set(getattr(ours, "__dataclass_fields__", {}))
    assert sorted(names - ours_names - NOT_PORTED) == []
    for name in names - NOT_PORTED:
        value = getattr(theirs, name, None)
        if isinstance(value, type) and issubclass(value, enum.Enum):
            mine = getattr(ours, name)
            assert {m.name: m.value for m in value} == {m.name: m.value for m in mine}, name
