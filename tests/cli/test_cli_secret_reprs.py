"""No secret in the repr of the demo's shared context (the PIN, the administrator token)."""

from __future__ import annotations

from rich.console import Console

from aioctap.cli.demo import _Context


def test_demo_context_hides_the_pin_and_the_admin_token() -> None:
    context = _Context(Console(), "udp:127.0.0.1:8111", "PIN-9876-SECRET", admin_token="secret-token:ADMINADMIN")
    text = repr(context)
    assert "PIN-9876-SECRET" not in text and "ADMINADMIN" not in text
    assert "udp:127.0.0.1:8111" in text
