"""FPBioEnrollment (CTAP 2.1 §6.7): fingerprint enrollment as an async iterator of capture samples."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import TypeAlias

import anyio

from ..ctap import CtapError, KeepaliveCallback, TransportError
from . import model
from .base import Ctap2, CtapResponseError, Info
from .model import OPTION, BioCmd, BioParam, BioResult, Modality, TemplateInfo, bio_enrollment_message
from .pin import PinProtocol, _PinUv

log = logging.getLogger(__name__)

__all__ = ["BioEnrollment", "CaptureError", "CaptureSample", "FPBioEnrollment", "FPEnrollmentContext"]


def _int(r: Mapping[int, object], key: int, command: str) -> int:
    value = r.get(key)
    if not isinstance(value, int):
        raise CtapResponseError(f"{command} response member {key} missing or not an integer")
    return value


def _sample(r: Mapping[int, object], command: str) -> tuple[int, int]:
    """(lastEnrollSampleStatus, remainingSamples) of an enrollBegin / enrollCaptureNextSample response."""
    return _int(r, BioResult.LAST_SAMPLE_STATUS, command), _int(r, BioResult.REMAINING_SAMPLES, command)


class CaptureError(Exception):
    """A capture sample was not good (``code`` is the FEEDBACK value)."""

    def __init__(self, code: int) -> None:
        self.code = code
        try:
            name = FPBioEnrollment.FEEDBACK(code).name
        except ValueError:
            name = f"0x{code:02x}"
        super().__init__(f"fingerprint capture error: {name}")


@dataclass(frozen=True)
class CaptureSample:
    """One touch during enrollment: its feedback, how many good samples remain, and at the end the template id."""

    feedback: int
    remaining: int
    template_id: bytes | None = None

    @property
    def good(self) -> bool:
        """True when the sensor reported FP_GOOD for this sample."""
        return self.feedback == FPBioEnrollment.FEEDBACK.FP_GOOD

    @property
    def done(self) -> bool:
        """True when no more samples are needed: the enrollment is complete."""
        return self.remaining == 0

    def raise_for_status(self) -> None:
        """Raise :class:`CaptureError` unless the sample was good."""
        if not self.good:
            raise CaptureError(self.feedback)


class BioEnrollment:
    """Base of the biometric enrollment APIs (CTAP 2.1 §6.7), python-fido2's ``BioEnrollment``.

    ``BioEnrollment(ctap, modality)``: ``ValueError`` when ``ctap.info`` has no bioEnroll (nor the 2.1 preview's
    userVerificationMgmtPreview). Unlike python-fido2's constructor this one does not ask the authenticator for its
    modality (a constructor cannot await): :meth:`get_modality` does.
    """

    RESULT: TypeAlias = BioResult
    TEMPLATE_INFO: TypeAlias = TemplateInfo
    MODALITY: TypeAlias = Modality

    @staticmethod
    def is_supported(info: Info) -> bool:
        """True when authenticatorGetInfo ``info`` advertises bioEnroll (or, on FIDO_2_1_PRE, the preview's option)."""
        if OPTION.BIO_ENROLL in info.options:
            return True
        return "FIDO_2_1_PRE" in info.versions and OPTION.USER_VERIFICATION_MGMT_PREVIEW in info.options

    def __init__(self, ctap: Ctap2, modality: int) -> None:
        if not self.is_supported(ctap.info):
            raise ValueError("Authenticator does not support BioEnroll")
        self.ctap = ctap
        self.modality = modality

    async def get_modality(self) -> int:
        """The authenticator's biometric modality (getModality, CTAP 2.1 §6.7.1)."""
        return _int(await self.ctap.bio_enrollment(get_modality=True), BioEnrollment.RESULT.MODALITY, "getModality")


class FPEnrollmentContext:
    """One fingerprint enrollment, python-fido2's ``FPEnrollmentContext`` (``FPBioEnrollment.enroll()``).

    ``template_id = await enroller.capture()`` takes one sample (enrollBegin, then enrollCaptureNextSample): it is
    None while more are needed (``enroller.remaining`` says how many), the template id when the enrollment is
    complete, and a bad sample raises :class:`CaptureError`. ``await enroller.cancel()`` stops it. The object is also
    an async iterator of :class:`CaptureSample` (aioctap's form), which never raises for a bad sample.
    """

    def __init__(
        self, bio: FPBioEnrollment, timeout: int | None = None, on_keepalive: KeepaliveCallback | None = None
    ) -> None:
        self._bio = bio
        self.timeout = timeout
        self._on_keepalive = on_keepalive
        self.template_id: bytes | None = None
        self.remaining: int | None = None
        self._iterator: AsyncGenerator[CaptureSample, None] | None = None

    def __repr__(self) -> str:
        return f"FPEnrollmentContext(remaining={self.remaining})"

    async def capture(self, on_keepalive: KeepaliveCallback | None = None) -> bytes | None:
        """Wait for one sample: None if more are needed, the template id when complete; CaptureError if not good."""
        keepalive = on_keepalive or self._on_keepalive
        if self.template_id is None:
            self.template_id, status, self.remaining = await self._bio.enroll_begin(self.timeout, keepalive)
        else:
            status, self.remaining = await self._bio.enroll_capture_next(self.template_id, self.timeout, keepalive)
        if status != FPBioEnrollment.FEEDBACK.FP_GOOD:
            raise CaptureError(status)
        return self.template_id if self.remaining == 0 else None

    async def cancel(self) -> None:
        """enrollCancel (CTAP 2.1 §6.7.3): stop the enrollment in progress."""
        await self._bio.enroll_cancel()
        self.template_id = None

    def __aiter__(self) -> AsyncGenerator[CaptureSample, None]:
        if self._iterator is None:
            self._iterator = self._bio._samples(self.timeout, self._on_keepalive)
        return self._iterator

    async def aclose(self) -> None:
        """Close an iteration in progress (``contextlib.aclosing``): an unfinished enrollment is cancelled."""
        if self._iterator is not None:
            await self._iterator.aclose()


class FPBioEnrollment(BioEnrollment):
    """``FPBioEnrollment(ctap, pin_uv_protocol, pin_uv_token)``; the token needs the be permission.

    ``get_fingerprint_sensor_info`` works without a token (pass None for both).
    """

    CMD: TypeAlias = BioCmd
    PARAM: TypeAlias = BioParam
    FEEDBACK: TypeAlias = model.FEEDBACK

    MODALITY_FINGERPRINT = BioEnrollment.MODALITY.FINGERPRINT

    def __init__(self, ctap: Ctap2, pin_uv_protocol: PinProtocol | None, pin_uv_token: bytes | None) -> None:
        # no bioEnroll check here (python-fido2's constructor has one): get_fingerprint_sensor_info and the CLI's
        # messages rely on reaching the authenticator's own answer
        self.ctap = ctap
        self.modality = FPBioEnrollment.MODALITY.FINGERPRINT
        self.pin_uv_protocol = pin_uv_protocol
        self.pin_uv_token = pin_uv_token

    def __repr__(self) -> str:
        return "FPBioEnrollment()"

    async def _call(
        self,
        sub_cmd: int,
        params: Mapping[int, object] | None = None,
        auth: bool = True,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> dict[int, object]:
        modality = self.MODALITY_FINGERPRINT
        pin_uv: tuple[int, bytes] | tuple[()] = ()
        if auth:
            if self.pin_uv_protocol is None or self.pin_uv_token is None:
                raise ValueError("this bio enrollment command needs a pinUvAuthToken with the be permission")
            message = bio_enrollment_message(modality, sub_cmd, params or None)
            pin_uv = _PinUv(self.pin_uv_protocol, self.pin_uv_token).param(message)
        return await self.ctap.bio_enrollment(modality, sub_cmd, params, *pin_uv, on_keepalive=on_keepalive)

    async def get_fingerprint_sensor_info(self) -> dict[int, object]:
        """FINGERPRINT_KIND and MAX_SAMPLES_REQUIRED."""
        return await self._call(FPBioEnrollment.CMD.GET_SENSOR_INFO, auth=False)

    async def enroll_begin(
        self, timeout: int | None = None, on_keepalive: KeepaliveCallback | None = None
    ) -> tuple[bytes, int, int]:
        """(template id, sample feedback, remaining samples)."""
        params: dict[int, object] | None = {FPBioEnrollment.PARAM.TIMEOUT_MS: timeout} if timeout else None
        r = await self._call(FPBioEnrollment.CMD.ENROLL_BEGIN, params, on_keepalive=on_keepalive)
        template_id = r.get(FPBioEnrollment.RESULT.TEMPLATE_ID)
        if not isinstance(template_id, bytes):
            raise CtapResponseError("enrollBegin response has no templateId")
        return (template_id, *_sample(r, "enrollBegin"))

    async def enroll_capture_next(
        self, template_id: bytes, timeout: int | None = None, on_keepalive: KeepaliveCallback | None = None
    ) -> tuple[int, int]:
        """(sample feedback, remaining samples)."""
        params: dict[int, object] = {FPBioEnrollment.PARAM.TEMPLATE_ID: template_id}
        if timeout:
            params[FPBioEnrollment.PARAM.TIMEOUT_MS] = timeout
        r = await self._call(FPBioEnrollment.CMD.ENROLL_CAPTURE_NEXT, params, on_keepalive=on_keepalive)
        return _sample(r, "enrollCaptureNextSample")

    async def enroll_cancel(self) -> None:
        """Cancel an ongoing enrollment."""
        await self._call(FPBioEnrollment.CMD.ENROLL_CANCEL, auth=False)

    def enroll(
        self, timeout: int | None = None, *, on_keepalive: KeepaliveCallback | None = None
    ) -> FPEnrollmentContext:
        """A fingerprint enrollment (CTAP 2.1 §6.7.2-§6.7.3), python-fido2's ``FPEnrollmentContext``.

        Either ``await enroller.capture()`` until it returns the template id (python-fido2's loop), or iterate
        ``async for sample in bio.enroll()`` over :class:`CaptureSample` items, the last of which (``done``)
        carries the template id.
        """
        return FPEnrollmentContext(self, timeout, on_keepalive)

    async def _samples(
        self, timeout: int | None = None, on_keepalive: KeepaliveCallback | None = None
    ) -> AsyncGenerator[CaptureSample, None]:
        """Capture samples as an async generator.

        Abandoning the iteration (``break``, an exception, cancellation) cancels the enrollment on the device;
        wrap the iterator in ``contextlib.aclosing`` to make that happen at once rather than when it is collected.
        """
        template_id, feedback, remaining = await self.enroll_begin(timeout, on_keepalive)
        finished = False
        try:
            while True:
                if remaining == 0:  # the enrollment is complete on the device: nothing to cancel
                    finished = True
                    yield CaptureSample(feedback, remaining, template_id)
                    return
                yield CaptureSample(feedback, remaining, None)
                feedback, remaining = await self.enroll_capture_next(template_id, timeout, on_keepalive)
        finally:
            if not finished:
                # best effort: an iterator abandoned with ``break`` is finalized later, maybe after the
                # device was closed; the cancel must not raise out of a finalizer ("never retrieved")
                with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                    try:
                        await self.enroll_cancel()
                    except (CtapError, TransportError, TimeoutError) as e:
                        log.debug("enrollment cancel after an abandoned enroll() failed: %s", e)

    async def enumerate_enrollments(self) -> dict[bytes, str | None]:
        """template id -> friendly name."""
        try:
            r = await self._call(FPBioEnrollment.CMD.ENUMERATE_ENROLLMENTS)
        except CtapError as e:
            if e.code == CtapError.ERR.INVALID_OPTION:  # no enrollments
                return {}
            raise
        infos = r.get(FPBioEnrollment.RESULT.TEMPLATE_INFOS)
        if not isinstance(infos, list) or not all(isinstance(t, dict) for t in infos):
            raise CtapResponseError("enumerateEnrollments response has no templateInfos list")
        out: dict[bytes, str | None] = {}
        for t in infos:
            template_id, name = t.get(FPBioEnrollment.TEMPLATE_INFO.ID), t.get(FPBioEnrollment.TEMPLATE_INFO.NAME)
            if not isinstance(template_id, bytes) or not (name is None or isinstance(name, str)):
                raise CtapResponseError("templateInfo needs a byte-string templateId and a text friendly name")
            out[template_id] = name
        return out

    async def set_name(self, template_id: bytes, name: str) -> None:
        """setFriendlyName (CTAP 2.1 §6.7.5): name the template ``template_id``."""
        await self._call(
            FPBioEnrollment.CMD.SET_NAME,
            {FPBioEnrollment.PARAM.TEMPLATE_ID: template_id, FPBioEnrollment.PARAM.TEMPLATE_NAME: name},
        )

    async def remove_enrollment(self, template_id: bytes) -> None:
        """removeEnrollment (CTAP 2.1 §6.7.6): delete the template ``template_id``."""
        await self._call(FPBioEnrollment.CMD.REMOVE_ENROLLMENT, {FPBioEnrollment.PARAM.TEMPLATE_ID: template_id})
