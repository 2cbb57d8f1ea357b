"""SiteConfiguration.current(): cached for a minute, read once inside held() (a batch of
received mail), and a save is seen at the next read, inside the block or out of it."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from casedesk.core.models import SiteConfiguration


def test_held_reads_the_configuration_once_and_sees_a_save(db: Any) -> None:
    # Given a configuration
    config = SiteConfiguration.current()
    config.company_name = "Acme"
    config.save()

    with SiteConfiguration.held():
        # When it is read several times in a held block
        first = SiteConfiguration.current()
        second = SiteConfiguration.current()

        # Then it is the one object, read once
        assert first is second and first.company_name == "Acme"

        # And a save in the block is what the next read sees
        first.company_name = "Acme Support"
        first.save()
        with CaptureQueriesContext(connection) as reads:
            assert SiteConfiguration.current().company_name == "Acme Support"
            assert SiteConfiguration.current() is SiteConfiguration.current()
        assert len(reads) <= 1

    # And out of the block each read is the cache's own copy again
    assert SiteConfiguration.current() is not SiteConfiguration.current()
    assert SiteConfiguration.current().company_name == "Acme Support"
