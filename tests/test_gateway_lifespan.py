"""What a gateway changes in its process while it runs, and puts back when it stops."""

from __future__ import annotations

import gc

from asgi_lifespan import LifespanManager
from loyalty_core.modules.manager import ModuleRegistry
from loyalty_gateway.app import YOUNG_COLLECTION_THRESHOLD, create_app
from loyalty_testing import DatabaseUrls, gateway_settings


async def test_the_collector_is_tuned_while_any_gateway_runs(
    database_urls: DatabaseUrls, loyalty_registry: ModuleRegistry
) -> None:
    before = gc.get_threshold()
    assert before[0] != YOUNG_COLLECTION_THRESHOLD
    tuned = (YOUNG_COLLECTION_THRESHOLD, *before[1:])
    first = LifespanManager(
        create_app(gateway_settings(database_urls), registry=loyalty_registry), startup_timeout=60
    )
    second = LifespanManager(
        create_app(gateway_settings(database_urls), registry=loyalty_registry), startup_timeout=60
    )

    await first.__aenter__()
    assert gc.get_threshold() == tuned
    assert gc.get_freeze_count() > 0  # start-up objects are out of the collector's sight
    await second.__aenter__()
    await first.__aexit__(None, None, None)  # not in the order they started
    assert gc.get_threshold() == tuned  # the second still runs
    await second.__aexit__(None, None, None)

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
