"""python-fido2's ``fido2.attestation.tpm`` parsers over aioctap's (:mod:`aioctap.server.attestation.tpm`).

:class:`TpmAttestationFormat` is a TPMS_ATTEST (a tpm statement's ``certInfo``), :class:`TpmPublicFormat` a
TPMT_PUBLIC (its ``pubArea``); ``parse`` raises ``ValueError`` for malformed bytes, as python-fido2's does. The
parsing is aioctap's (:class:`~aioctap.server.attestation.tpm.TpmsAttest`,
:class:`~aioctap.server.attestation.tpm.TpmtPublic`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..server.attestation.tpm import TpmsAttest, TpmtPublic, TpmTruncatedError
from ..server.errors import MalformedAttestationError
from . import TpmAttestation

__all__ = ["TpmAttestation", "TpmAttestationFormat", "TpmPublicFormat", "TpmsCertifyInfo"]


def _value_error(e: MalformedAttestationError) -> ValueError:
    if isinstance(e, TpmTruncatedError):
        return ValueError(f"Not enough data to read (need: {e.need}, had: {e.had}).")
    return ValueError(str(e))


@dataclass(frozen=True)
class TpmsCertifyInfo:
    """TPMS_CERTIFY_INFO: the name and qualified name of the certified object."""

    name: bytes
    qualified_name: bytes


@dataclass(frozen=True)
class TpmAttestationFormat:
    """TPMS_ATTEST with TPMS_CERTIFY_INFO (TPM 2.0 Part 2 §10.12.8), python-fido2's names."""

    name: bytes
    data: bytes
    clock_info: tuple[int, int, int, bool]
    firmware_version: int
    attested: TpmsCertifyInfo

    @classmethod
    def parse(cls, data: bytes) -> TpmAttestationFormat:
        """Parse a ``certInfo``; ``ValueError`` when it is malformed or is not a TPM_ST_ATTEST_CERTIFY."""
        try:
            a = TpmsAttest.parse(data)
        except MalformedAttestationError as e:
            raise _value_error(e) from e
        return cls(
            a.qualified_signer,
            a.extra_data,
            (a.clock, a.reset_count, a.restart_count, a.safe),
            a.firmware_version,
            TpmsCertifyInfo(a.attested_name, a.attested_qualified_name),
        )


@dataclass(frozen=True)
class TpmPublicFormat:
    """TPMT_PUBLIC for an RSA or ECC key (TPM 2.0 Part 2 §12.2.4), python-fido2's names."""

    sign_alg: int
    name_alg: int
    attributes: int
    auth_policy: bytes
    unique: bytes
    data: bytes

    @classmethod
    def parse(cls, data: bytes) -> TpmPublicFormat:
        """Parse a ``pubArea``; ``ValueError`` when it is malformed. ``unique`` is the RSA modulus or ECC x || y."""
        try:
            p = TpmtPublic.parse(data)
        except MalformedAttestationError as e:
            raise _value_error(e) from e
        return cls(p.type, p.name_alg, p.object_attributes, p.auth_policy, p.unique + p.unique_y, bytes(data))
