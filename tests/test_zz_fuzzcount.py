from __future__ import annotations

import asyncio
import collections
import logging
import os

from hypothesis import HealthCheck, given, settings

from tests.test_api_fuzz import documents, fuzz_gateway, internal_codes

N = int(os.environ.get("FUZZ_N", "200"))


async def test_count(make_app, db, tenant, caplog) -> None:
    caplog.set_level(logging.ERROR)
    gateway, target, headers = await fuzz_gateway(make_app, db, tenant)
    loop = asyncio.get_running_loop()
    total = collections.Counter()
    bad = collections.Counter()
    causes = collections.Counter()
    for principal in headers:
        for i, (strategy, examples) in enumerate(documents(target)):
            docs: list[str] = []

            @settings(
                max_examples=N,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(strategy)
            def collect(d: str) -> None:
                docs.append(d)

            await asyncio.to_thread(collect)
            for d in docs:
                caplog.clear()
                r = await gateway.client.post(
                    "/graphql", json={"query": d}, headers=headers[principal]
                )
                total[principal] += 1
                held = gateway.state.database._held
                await asyncio.sleep(0)
                if len(held._idle) != held._opened:
                    print(
                        "\nLEAK",
                        len(held._idle),
                        held._opened,
                        principal,
                        r.status_code,
                        r.text[:300],
                        "\n",
                        d,
                    )
                    return
                if r.status_code >= 500 or list(internal_codes(r.json())):
                    bad[(principal, i)] += 1
                    for rec in caplog.records:
                        if rec.exc_info:
                            e = rec.exc_info[1]
                            causes[f"{type(e).__name__}: {str(e)[:150]}"] += 1
    print("\nTOTAL", dict(total))
    print("BAD", dict(bad))
    for c, n in causes.most_common(40):
        print(n, c)
