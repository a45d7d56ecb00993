"""Config (CTAP 2.1 §6.11): authenticatorConfig subcommands."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

from .base import Ctap2, Info
from .model import OPTION, ConfigCmd, ConfigParam, config_message
from .pin import PinProtocol, _pin_uv

__all__ = ["Config"]


class Config:
    """``Config(ctap, pin_uv_protocol=None, pin_uv_token=None)``; a token with acfg when a PIN is set."""

    CMD: TypeAlias = ConfigCmd
    PARAM: TypeAlias = ConfigParam

    @staticmethod
    def is_supported(info: Info) -> bool:
        """True when authenticatorGetInfo ``info`` advertises authnrCfg."""
        return bool(info.options.get(OPTION.AUTHNR_CFG))

    def __init__(
        self, ctap: Ctap2, pin_uv_protocol: PinProtocol | None = None, pin_uv_token: bytes | None = None
    ) -> None:
        self.ctap = ctap
        self.pin_uv = _pin_uv(pin_uv_protocol, pin_uv_token)

    def __repr__(self) -> str:
        return "Config()"

    async def _call(self, sub_cmd: int, params: Mapping[int, object] | None = None) -> None:
        pin_uv = self.pin_uv.param(config_message(sub_cmd, params or None)) if self.pin_uv else ()
        await self.ctap.config(sub_cmd, params, *pin_uv)

    async def enable_enterprise_attestation(self) -> None:
        """Enable enterprise attestation (ignored if already enabled)."""
        await self._call(Config.CMD.ENABLE_ENTERPRISE_ATT)

    async def toggle_always_uv(self) -> None:
        """Flip the alwaysUv setting."""
        await self._call(Config.CMD.TOGGLE_ALWAYS_UV)

    async def set_min_pin_length(
        self, min_pin_length: int | None = None, rp_ids: list[str] | None = None, force_change_pin: bool = False
    ) -> None:
        """Raise the minimum PIN length, name RPs that may read it, and/or force a PIN change."""
        params: dict[int, object] = {}
        if min_pin_length is not None:
            params[Config.PARAM.NEW_MIN_PIN_LENGTH] = min_pin_length
        if rp_ids is not None:
            params[Config.PARAM.MIN_PIN_LENGTH_RPIDS] = list(rp_ids)
        if force_change_pin:
            params[Config.PARAM.FORCE_CHANGE_PIN] = True
        await self._call(Config.CMD.SET_MIN_PIN_LENGTH, params or None)
