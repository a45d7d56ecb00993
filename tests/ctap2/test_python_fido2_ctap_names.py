"""The python-fido2 ctap names issue 18 found missing, by behaviour: CtapDevice.close, ClientPin.get_uv_token's
signature, BioEnrollment, FPBioEnrollment.enroll()'s capture object, ``await Ctap2(dev)``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

import aioctap
from aioctap import TransportError
from aioctap.ctap2 import BioEnrollment, CaptureError, ClientPin, Ctap2, FPBioEnrollment, FPEnrollmentContext
from aioctap.virtual import open_virtual_device
from aioctap.virtual.common import FEEDBACK

PIN = "1234"
P = ClientPin.PERMISSION


async def test_ctap2_is_awaitable_like_python_fido2s_constructor() -> None:
    async with aioctap.open_device("virtual") as dev:
        ctap = Ctap2(dev)
        with pytest.raises(RuntimeError):
            _ = ctap.info
        assert await ctap is ctap
        assert "FIDO_2_1" in ctap.info.versions


async def test_close_stops_the_channel_and_aclose_still_releases() -> None:
    async with aioctap.open_device("virtual") as dev:
        ctap = await Ctap2(dev)
        dev.close()
        with pytest.raises(TransportError, match="closed"):
            await ctap.get_info()
        dev.close()  # idempotent, as python-fido2's
    await dev.aclose()  # after the block: nothing left to release, no error


async def test_get_uv_token_signature() -> None:
    async with aioctap.open_device("virtual") as dev:
        cp = ClientPin(await Ctap2(dev))
        with pytest.raises(ValueError, match="needs permissions"):
            await cp.get_uv_token()  # python-fido2's default; CTAP 2.1 §6.5.5.7.3 has no default permissions
        info = cp.ctap.info
        cp.ctap._info = type(info)(**{**vars(info), "options": {**info.options, "pinUvAuthToken": False}})
        with pytest.raises(ValueError, match="does not support get_uv_token"):
            await cp.get_uv_token(P.GET_ASSERTION, "example.com")


@contextlib.asynccontextmanager
async def bio_device() -> AsyncIterator[tuple[Any, FPBioEnrollment]]:
    async with open_virtual_device() as dev:
        ctap = await Ctap2(dev)
        cp = ClientPin(ctap)
        await cp.set_pin(PIN)
        token = await cp.get_pin_token(PIN, P.BIO_ENROLL)
        yield dev, FPBioEnrollment(ctap, cp.protocol, token)


async def test_bio_enrollment_base_class() -> None:
    async with bio_device() as (_, bio):
        assert isinstance(bio, BioEnrollment)
        assert BioEnrollment.is_supported(bio.ctap.info)
        base = BioEnrollment(bio.ctap, BioEnrollment.MODALITY.FINGERPRINT)
        assert await base.get_modality() == BioEnrollment.MODALITY.FINGERPRINT
        assert bio.modality == BioEnrollment.MODALITY.FINGERPRINT
        info = bio.ctap.info
        no_bio = type(info)(**{**vars(info), "options": {k: v for k, v in info.options.items() if k != "bioEnroll"}})
        bio.ctap._info = no_bio
        with pytest.raises(ValueError, match="does not support BioEnroll"):
            BioEnrollment(bio.ctap, BioEnrollment.MODALITY.FINGERPRINT)


async def test_enroll_capture_like_python_fido2() -> None:
    async with bio_device() as (dev, bio):
        dev.authenticator.sensor.script(FEEDBACK.FP_GOOD, FEEDBACK.FP_TOO_FAST)
        enroller = bio.enroll()
        assert isinstance(enroller, FPEnrollmentContext)
        assert (enroller.template_id, enroller.remaining) == (None, None)
        template_id = await enroller.capture()
        assert template_id is None and enroller.template_id is not None
        first_remaining = enroller.remaining
        assert first_remaining is not None and first_remaining > 0
        with pytest.raises(CaptureError) as e:
            await enroller.capture()
        assert e.value.code == FEEDBACK.FP_TOO_FAST
        assert enroller.remaining == first_remaining  # a bad sample does not count
        while template_id is None:
            template_id = await enroller.capture()
        assert enroller.remaining == 0 and template_id == enroller.template_id
        assert list(await bio.enumerate_enrollments()) == [template_id]
        await bio.set_name(template_id, "Example")
        assert await bio.enumerate_enrollments() == {template_id: "Example"}


async def test_enroll_cancel_and_the_async_iterator_form() -> None:
    async with bio_device() as (_, bio):
        enroller = bio.enroll()
        await enroller.capture()
        await enroller.cancel()
        assert enroller.template_id is None
        assert await bio.enumerate_enrollments() == {}  # nothing half-enrolled
        samples = [s async for s in bio.enroll()]
        assert samples[-1].done and samples[-1].template_id is not None
        async with contextlib.aclosing(bio.enroll()) as enrollment:
            async for sample in enrollment:
                assert sample.good
                break  # abandoned: cancelled on the device
        assert list(await bio.enumerate_enrollments()) == [samples[-1].template_id]
