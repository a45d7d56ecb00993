"""PIN/UV auth protocols 1 and 2 (CTAP 2.1 §6.5.6, §6.5.7) and the ClientPin command (§6.5).

``PinProtocolV1``/``PinProtocolV2`` are the pure crypto of each protocol, used by the host
(:class:`ClientPin`) and by the software authenticator alike. Neither the PIN nor a
pinUvAuthToken ever appears in a repr, a log line or an exception message.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import os
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeAlias

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .._redact import Hidden
from ..cose import CoseError, CoseKey, EcdhEsHkdf256
from ..ctap import KeepaliveCallback
from . import model
from .model import OPTION, ClientPinCmd, ClientPinResult

if TYPE_CHECKING:
    from .base import Ctap2, Info

__all__ = ["ClientPin", "PinProtocol", "PinProtocolError", "PinProtocolV1", "PinProtocolV2"]


class PinProtocolError(ValueError):
    """Malformed input to a PIN/UV protocol operation (wrong lengths, bad key)."""


class PinProtocol(abc.ABC):
    """Base of the PIN/UV auth protocols."""

    VERSION: ClassVar[int] = 0

    @abc.abstractmethod
    def kdf(self, z: bytes) -> bytes:
        """See the protocol classes."""

    @abc.abstractmethod
    def encrypt(self, key: bytes, plaintext: bytes) -> bytes:
        """See the protocol classes."""

    @abc.abstractmethod
    def decrypt(self, key: bytes, ciphertext: bytes) -> bytes:
        """See the protocol classes."""

    @abc.abstractmethod
    def authenticate(self, key: bytes, message: bytes) -> bytes:
        """See the protocol classes."""

    @abc.abstractmethod
    def validate_token(self, token: bytes) -> bytes:
        """See the protocol classes."""

    def verify(self, key: bytes, message: bytes, signature: bytes) -> bool:
        """Constant-time check of ``signature == authenticate(key, message)`` (authenticator side)."""
        return hmac.compare_digest(self.authenticate(key, message), signature)

    def encapsulate(self, peer_cose_key: Mapping[int, object]) -> tuple[dict[int, object], bytes]:
        """Generate an ephemeral P-256 key; return (our COSE key to send, shared secret)."""
        private = ec.generate_private_key(ec.SECP256R1())
        return dict(EcdhEsHkdf256.from_cryptography_key(private.public_key())), self.ecdh(private, peer_cose_key)

    def ecdh(self, private_key: ec.EllipticCurvePrivateKey, peer_cose_key: Mapping[int, object]) -> bytes:
        """``kdf(ECDH(private_key, peer))``: the shared secret seen from either side (§6.5.6 ecdh)."""
        try:
            peer = CoseKey.parse({**peer_cose_key, 3: -25} if isinstance(peer_cose_key, dict) else peer_cose_key)
            if not isinstance(peer, EcdhEsHkdf256):
                raise PinProtocolError("key agreement key must be a P-256 EC2 key")
            z = private_key.exchange(ec.ECDH(), peer.public_key())
        except CoseError as e:
            raise PinProtocolError(f"invalid key agreement key: {e}") from None
        return self.kdf(z)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _aes_cbc(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    if len(data) % 16:
        raise PinProtocolError("data length is not a multiple of the AES block size")
    if len(key) not in (16, 24, 32):
        raise PinProtocolError("AES key has the wrong length")
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    op = cipher.encryptor() if encrypt else cipher.decryptor()
    return op.update(data) + op.finalize()


class PinProtocolV1(PinProtocol):
    """PIN/UV auth protocol 1: SHA-256 KDF, AES-256-CBC with a zero IV, 16-byte HMAC-SHA-256 tags."""

    VERSION = 1
    IV = b"\x00" * 16

    def kdf(self, z: bytes) -> bytes:
        """CTAP 2.1 §6.5.6 kdf: SHA-256 of the ECDH x-coordinate ``z``."""
        return hashlib.sha256(z).digest()

    def encrypt(self, key: bytes, plaintext: bytes) -> bytes:
        """CTAP 2.1 §6.5.6 encrypt: AES-256-CBC with a zero IV (``plaintext`` a multiple of 16 bytes)."""
        return _aes_cbc(key, self.IV, plaintext, True)

    def decrypt(self, key: bytes, ciphertext: bytes) -> bytes:
        """CTAP 2.1 §6.5.6 decrypt: AES-256-CBC with a zero IV."""
        return _aes_cbc(key, self.IV, ciphertext, False)

    def authenticate(self, key: bytes, message: bytes) -> bytes:
        """CTAP 2.1 §6.5.6 authenticate: the first 16 bytes of HMAC-SHA-256(key, message)."""
        return hmac.new(key, message, hashlib.sha256).digest()[:16]

    def validate_token(self, token: bytes) -> bytes:
        """Return ``token`` if it is a valid protocol 1 pinUvAuthToken (16 or 32 bytes), else raise PinProtocolError."""
        if len(token) not in (16, 32):
            raise PinProtocolError("pinUvAuthToken must be 16 or 32 bytes")
        return token


class PinProtocolV2(PinProtocolV1):
    """PIN/UV auth protocol 2: HKDF-SHA-256 split keys, random IVs, full 32-byte HMAC tags."""

    VERSION = 2
    HKDF_SALT = b"\x00" * 32
    HKDF_INFO_HMAC = b"CTAP2 HMAC key"
    HKDF_INFO_AES = b"CTAP2 AES key"

    def kdf(self, z: bytes) -> bytes:
        """CTAP 2.1 §6.5.7 kdf: HKDF-SHA-256 of ``z`` into an HMAC key and an AES key (64 bytes)."""

        def hkdf(info: bytes) -> bytes:
            return HKDF(hashes.SHA256(), 32, self.HKDF_SALT, info).derive(z)

        return hkdf(self.HKDF_INFO_HMAC) + hkdf(self.HKDF_INFO_AES)

    def encrypt(self, key: bytes, plaintext: bytes) -> bytes:
        """CTAP 2.1 §6.5.7 encrypt: a random IV followed by AES-256-CBC under the AES half of ``key``."""
        iv = os.urandom(16)
        return iv + _aes_cbc(key[32:], iv, plaintext, True)

    def decrypt(self, key: bytes, ciphertext: bytes) -> bytes:
        """CTAP 2.1 §6.5.7 decrypt: the first 16 bytes are the IV, the rest AES-256-CBC ciphertext."""
        if len(ciphertext) < 16:
            raise PinProtocolError("ciphertext shorter than its IV")
        return _aes_cbc(key[32:], ciphertext[:16], ciphertext[16:], False)

    def authenticate(self, key: bytes, message: bytes) -> bytes:
        """CTAP 2.1 §6.5.7 authenticate: HMAC-SHA-256 under the HMAC half of ``key`` (32 bytes)."""
        return hmac.new(key[:32], message, hashlib.sha256).digest()

    def validate_token(self, token: bytes) -> bytes:
        """Return ``token`` if it is a valid protocol 2 pinUvAuthToken (32 bytes), else raise PinProtocolError."""
        if len(token) != 32:
            raise PinProtocolError("pinUvAuthToken must be 32 bytes")
        return token


ENC_IDENTIFIER_INFO = b"encIdentifier"
ENC_CRED_STORE_STATE_INFO = b"encCredStoreState"


def _persistent_member_key(persistent_token: bytes, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 16, b"\x00" * 32, info).derive(persistent_token)


def seal_info_member(persistent_token: bytes, info: bytes, plaintext: bytes, iv: bytes | None = None) -> bytes:
    """getInfo's encIdentifier / encCredStoreState (CTAP 2.2 §6.4): a 16-byte IV followed by AES-128-CBC of
    ``plaintext`` under HKDF-SHA-256(salt 32 zero bytes, IKM the persistentPinUvAuthToken, L 16, ``info``)."""
    iv = os.urandom(16) if iv is None else iv
    return iv + _aes_cbc(_persistent_member_key(persistent_token, info), iv, plaintext, True)


def open_info_member(persistent_token: bytes, info: bytes, sealed: bytes) -> bytes:
    """The plaintext of a :func:`seal_info_member` value; PinProtocolError when it is malformed."""
    if len(sealed) < 32:
        raise PinProtocolError("an encrypted getInfo member is an IV and at least one block")
    return _aes_cbc(_persistent_member_key(persistent_token, info), sealed[:16], sealed[16:], False)


class _PinUv(NamedTuple):
    """A pinUvAuthToken and its protocol (python-fido2's ``_PinUv``), as the command families hold them."""

    protocol: PinProtocol
    token: bytes

    def param(self, message: bytes) -> tuple[int, bytes]:
        """(pinUvAuthProtocol, pinUvAuthParam) for a request whose authenticated message is ``message``."""
        return self.protocol.VERSION, self.protocol.authenticate(self.token, message)

    def __repr__(self) -> str:  # the token is a secret: never in a repr
        return f"_PinUv(protocol={self.protocol!r}, token={Hidden(self.token)!r})"


def _pin_uv(protocol: PinProtocol | None, token: bytes | None) -> _PinUv | None:
    """The pair when both are given, else None (the command is then sent without pinUvAuthParam)."""
    return _PinUv(protocol, token) if protocol and token else None


def _pin_hash(pin: str) -> bytes:
    """LEFT(SHA-256(pin), 16), the pinHash that pinHashEnc encrypts (CTAP 2.1 §6.5.5.5)."""
    return hashlib.sha256(pin.encode("utf-8")).digest()[:16]


class ClientPin:
    """authenticatorClientPIN (§6.5.5): PIN management and pinUvAuthTokens.

    ``ClientPin(ctap, protocol=None)`` picks the authenticator's preferred supported protocol.
    """

    CMD: TypeAlias = ClientPinCmd
    RESULT: TypeAlias = ClientPinResult
    PERMISSION: TypeAlias = model.PERMISSION

    PROTOCOLS: ClassVar[tuple[type[PinProtocol], ...]] = (PinProtocolV2, PinProtocolV1)

    @staticmethod
    def is_supported(info: Info) -> bool:
        """True when authenticatorGetInfo ``info`` has the clientPin option (set or not)."""
        return OPTION.CLIENT_PIN in info.options

    @staticmethod
    def is_token_supported(info: Info) -> bool:
        """True when ``info`` advertises pinUvAuthToken (getPinUvAuthTokenUsingPinWithPermissions)."""
        return bool(info.options.get(OPTION.PIN_UV_AUTH_TOKEN))

    def __init__(self, ctap: Ctap2, protocol: PinProtocol | None = None) -> None:
        self.ctap = ctap
        if protocol is None:
            protocol = next((p() for p in self.PROTOCOLS if p.VERSION in ctap.info.pin_uv_protocols), None)
            if protocol is None:
                raise PinProtocolError("the authenticator supports no known PIN/UV auth protocol")
        self.protocol = protocol

    def __repr__(self) -> str:
        return f"ClientPin(protocol={self.protocol.VERSION})"

    async def _get_shared_secret(self) -> tuple[dict[int, Any], bytes]:
        resp = await self.ctap.client_pin(self.protocol.VERSION, ClientPin.CMD.GET_KEY_AGREEMENT)
        peer = resp.get(ClientPin.RESULT.KEY_AGREEMENT)
        if not isinstance(peer, dict):
            raise PinProtocolError("authenticator returned no keyAgreement key")
        return self.protocol.encapsulate(peer)

    async def _get_token(
        self,
        sub_cmd: int,
        pin: str | None,
        permissions: int | None,
        permissions_rpid: str | None,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> bytes:
        """A pinUvAuthToken from getPinToken, getPinUvAuthTokenUsingPinWithPermissions or ...UsingUv, decrypted."""
        key_agreement, shared = await self._get_shared_secret()
        resp = await self.ctap.client_pin(
            self.protocol.VERSION,
            sub_cmd,
            key_agreement=key_agreement,
            pin_hash_enc=None if pin is None else self.protocol.encrypt(shared, _pin_hash(pin)),
            permissions=permissions,
            permissions_rpid=permissions_rpid,
            on_keepalive=on_keepalive,
        )
        enc = resp.get(ClientPin.RESULT.PIN_UV_TOKEN)
        if not isinstance(enc, bytes):
            raise PinProtocolError("authenticator returned no pinUvAuthToken")
        return self.protocol.validate_token(self.protocol.decrypt(shared, enc))

    async def get_pin_token(
        self,
        pin: str,
        permissions: ClientPin.PERMISSION | None = None,
        permissions_rpid: str | None = None,
    ) -> bytes:
        """getPinToken (without permissions) or getPinUvAuthTokenUsingPinWithPermissions."""
        if permissions is not None and self.is_token_supported(self.ctap.info):
            return await self._get_token(ClientPin.CMD.GET_TOKEN_USING_PIN, pin, int(permissions), permissions_rpid)
        return await self._get_token(ClientPin.CMD.GET_TOKEN_USING_PIN_LEGACY, pin, None, None)

    async def get_uv_token(
        self,
        permissions: ClientPin.PERMISSION | None = None,
        permissions_rpid: str | None = None,
        *,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> bytes:
        """getPinUvAuthTokenUsingUvWithPermissions (CTAP 2.1 §6.5.5.7.3, built-in user verification).

        python-fido2's signature; the subcommand has no default permissions (the authenticator answers
        CTAP2_ERR_MISSING_PARAMETER without them), so ``permissions`` None is a ``ValueError`` here, as is an
        authenticator without pinUvAuthToken support.
        """
        if not self.is_token_supported(self.ctap.info):
            raise ValueError("Authenticator does not support get_uv_token")
        if permissions is None:
            raise ValueError("getPinUvAuthTokenUsingUvWithPermissions needs permissions (CTAP 2.1 §6.5.5.7.3)")
        return await self._get_token(
            ClientPin.CMD.GET_TOKEN_USING_UV, None, int(permissions), permissions_rpid, on_keepalive
        )

    async def _get_retries(self, sub_cmd: int, key: int, name: str) -> tuple[int, dict[int, object]]:
        resp = await self.ctap.client_pin(self.protocol.VERSION, sub_cmd)
        retries = resp.get(key)
        if not isinstance(retries, int):
            raise PinProtocolError(f"authenticator returned no {name}")
        return retries, resp

    async def get_pin_retries(self) -> tuple[int, bool | None]:
        """(PIN retries left, whether a power cycle is needed before the next attempt)."""
        retries, resp = await self._get_retries(
            ClientPin.CMD.GET_PIN_RETRIES, ClientPin.RESULT.PIN_RETRIES, "pinRetries"
        )
        power_cycle = resp.get(ClientPin.RESULT.POWER_CYCLE_STATE)
        if power_cycle is not None and not isinstance(power_cycle, bool):
            raise PinProtocolError("authenticator returned a non-boolean powerCycleState")
        return retries, power_cycle

    async def get_uv_retries(self) -> int:
        """getUVRetries: how many built-in UV attempts remain."""
        return (await self._get_retries(ClientPin.CMD.GET_UV_RETRIES, ClientPin.RESULT.UV_RETRIES, "uvRetries"))[0]

    async def _set_pin(self, sub_cmd: int, new_pin: str, old_pin: str | None = None) -> None:
        """setPIN or changePIN: newPinEnc (and pinHashEnc of the old PIN), authenticated with the shared secret."""
        padded = new_pin.encode("utf-8")
        if len(padded) > 63:
            raise PinProtocolError("PIN must be at most 63 bytes of UTF-8")
        if len(new_pin) < 4:
            raise PinProtocolError("PIN must be at least 4 characters")
        key_agreement, shared = await self._get_shared_secret()
        new_pin_enc = self.protocol.encrypt(shared, padded.ljust(64, b"\0"))
        pin_hash_enc = b"" if old_pin is None else self.protocol.encrypt(shared, _pin_hash(old_pin))
        call = partial(
            self.ctap.client_pin,
            self.protocol.VERSION,
            sub_cmd,
            key_agreement=key_agreement,
            new_pin_enc=new_pin_enc,
            pin_uv_param=self.protocol.authenticate(shared, new_pin_enc + pin_hash_enc),
        )
        await (call(pin_hash_enc=pin_hash_enc) if pin_hash_enc else call())  # python-fido2's calls: as keywords

    async def set_pin(self, pin: str) -> None:
        """setPIN: only when no PIN is set."""
        await self._set_pin(ClientPin.CMD.SET_PIN, pin)

    async def change_pin(self, old_pin: str, new_pin: str) -> None:
        """changePIN."""
        await self._set_pin(ClientPin.CMD.CHANGE_PIN, new_pin, old_pin)
