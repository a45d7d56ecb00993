"""aioctap's stand-in for py_webauthn's tests/helpers/x509store.py (the one file of these tests rewritten).

py_webauthn's helper patches the pyOpenSSL X509Store its chain validation builds, so that a test can
``set_time`` to when the vectors' certificates were valid. aioctap validates chains with cryptography at
``now``, a parameter of its verification: this helper passes the time the test sets as that ``now``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from unittest.mock import patch

from aioctap.server.py_webauthn import verification


class _Clock:
    def __init__(self) -> None:
        self.time: datetime.datetime | None = None

    def set_time(self, when: datetime.datetime) -> None:
        self.time = when


def patch_validate_certificate_chain_x509store_getter(func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        clock = _Clock()
        real = verification.verify_registration

        def at_clock_time(*a: Any, **kw: Any) -> Any:
            kw["now"] = kw.get("now") or clock.time
            return real(*a, **kw)

        with patch.object(verification, "verify_registration", at_clock_time):
            return func(*args, clock, **kwargs)

    return wrapper
