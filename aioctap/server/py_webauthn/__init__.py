"""py_webauthn 2.x's API on aioctap's verification: ``from aioctap.server import py_webauthn as webauthn``.

Every name a py_webauthn user imports from ``webauthn``, ``webauthn.helpers``, ``webauthn.helpers.structs``,
``webauthn.helpers.cose`` or ``webauthn.helpers.exceptions`` is here, with py_webauthn's keywords, defaults,
dataclasses and exceptions: ``generate_registration_options``, ``generate_authentication_options``,
``options_to_json``, ``parse_registration_credential_json``, ``parse_authentication_credential_json``,
``verify_registration_response`` and ``verify_authentication_response``. The checks are aioctap's
(WebAuthn L3 §7.1, §7.2), so the few differences from py_webauthn are where L3 asks for more; README lists them.
"""

from __future__ import annotations

from .exceptions import *  # noqa: F403
from .exceptions import __all__ as _exceptions_all
from .helpers import (
    ParsedBackupFlags,
    aaguid_to_string,
    base64url_to_bytes,
    bytes_to_base64url,
    generate_challenge,
    generate_user_handle,
    options_to_json,
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_backup_flags,
    parse_registration_credential_json,
)
from .options import default_supported_pub_key_algs, generate_authentication_options, generate_registration_options
from .options_json import parse_authentication_options_json, parse_registration_options_json
from .structs import *  # noqa: F403
from .structs import __all__ as _structs_all
from .verification import (
    VerifiedAuthentication,
    VerifiedRegistration,
    verify_authentication_response,
    verify_registration_response,
)

__all__ = [
    "ParsedBackupFlags",
    "VerifiedAuthentication",
    "VerifiedRegistration",
    "aaguid_to_string",
    "base64url_to_bytes",
    "bytes_to_base64url",
    "default_supported_pub_key_algs",
    "generate_authentication_options",
    "generate_challenge",
    "generate_registration_options",
    "generate_user_handle",
    "options_to_json",
    "options_to_json_dict",
    "parse_authentication_credential_json",
    "parse_authentication_options_json",
    "parse_backup_flags",
    "parse_registration_credential_json",
    "parse_registration_options_json",
    "verify_authentication_response",
    "verify_registration_response",
    *_exceptions_all,
    *_structs_all,
]
