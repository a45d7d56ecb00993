"""A store URL's password never reaches a StoreError or the CLI's messages, even one a URL parser splits
(an unescaped '/' makes its first part a "port" that the parser's error message quotes)."""

from __future__ import annotations

import pytest

from aioctap.cli.server_cmds import data_location
from aioctap.stores import StoreError, open_store
from aioctap.stores.base import scrub_url_secrets, url_location

URLS = [
    ("redis://:pa/ssw0rd@127.0.0.1:1/0", ["'pa'", "pa/ss", "ssw0rd"]),
    ("redis://user:hunter2@127.0.0.1:1/0", ["hunter2"]),
    ("redis://127.0.0.1:1/0?password=hunter2", ["hunter2"]),
    ("postgresql://u:pa/ssw0rd@127.0.0.1:1/db", ["'pa'", "pa/ss", "ssw0rd"]),
    ("postgresql://u:hun/ter2secret@127.0.0.1:1/db", ["'hun'", "ter2secret"]),
    ("postgresql://u:hunter2@127.0.0.1:1/db?sslmode=bogus", ["hunter2"]),
]


@pytest.mark.parametrize(("url", "secrets"), URLS)
async def test_open_store_errors_never_show_the_password(url: str, secrets: list[str]) -> None:
    pytest.importorskip("redis" if url.startswith("redis") else "asyncpg")
    with pytest.raises(StoreError) as info:
        async with open_store(url):
            pass
    for secret in secrets:
        assert secret not in str(info.value)
    for secret in secrets:
        assert secret not in data_location(url)
    assert "127.0.0.1:1/" in data_location(url)


def test_url_location_and_scrub() -> None:
    assert url_location("redis://:hunter2@db.internal:6380/3") == "db.internal:6380/3"
    assert url_location("redis://db:6380/3?password=hunter2") == "db:6380/3"
    assert url_location("postgresql://u:a/b@c@pg:5432/rp") == "pg:5432/rp"
    message = "invalid port 'pa' in ssw0rd@host; pass it as a parameter"
    assert (
        scrub_url_secrets(message, "redis://:pa/ssw0rd@host")
        == "invalid port '***' in ***@host; pass it as a parameter"
    )
    assert scrub_url_secrets("no secret here", "redis://host/0") == "no secret here"
