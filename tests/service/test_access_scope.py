"""The scoped services of wxqr.service.access cover every public method of their bases,
so a method added to a service later cannot escape an API key's scope unnoticed."""

from __future__ import annotations

import inspect

import pytest

from wxqr.service.access import (
    AccessScope,
    ScopedChannelService,
    ScopedCodeImages,
    ScopedCodeService,
    ScopedStatsService,
)


@pytest.mark.parametrize(
    "scoped", [ScopedChannelService, ScopedCodeService, ScopedCodeImages, ScopedStatsService]
)
def test_every_public_method_of_the_base_is_overridden(scoped: type) -> None:
    base = scoped.__mro__[1]
    public = {
        name
        for name, member in inspect.getmembers(base, inspect.isfunction)
        if not name.startswith("_")
    }
    assert public, base
    not_overridden = {name for name in public if name not in vars(scoped)}
    assert not_overridden == set(), f"{scoped.__name__} must check the scope in these"


def test_a_scope_says_what_it_allows() -> None:
    everything = AccessScope()
    assert everything.all_accounts
    assert everything.allows("wxanything")
    assert everything.describe() == "all accounts; read-write"
    some = AccessScope(appids=frozenset({"wxb", "wxa"}), read_only=True)
    assert not some.all_accounts
    assert some.allows("wxa")
    assert not some.allows("wxc")
    assert some.describe() == "wxa, wxb; read-only"
