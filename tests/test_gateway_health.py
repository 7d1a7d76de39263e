"""Liveness, readiness and metrics of the gateway."""

from __future__ import annotations

from pathlib import Path

from loyalty_core.modules.contributions import ModuleInfo
from loyalty_core.modules.hookspecs import hookimpl
from loyalty_core.modules.manager import build_registry
from loyalty_testing import MakeApp

PENDING_REVISION = '''"""A revision no database has: the code is ahead of the schema.

Revision ID: test_pending_0001
Revises:
"""

revision = "test_pending_0001"
down_revision = None
branch_labels = ("test_pending",)
depends_on = "0001_core"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


async def test_healthz_answers_while_the_process_serves(make_app: MakeApp) -> None:
    running = await make_app()

    response = await running.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_answers_when_the_database_is_at_head(make_app: MakeApp) -> None:
    running = await make_app()

    response = await running.client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_refuses_while_migrations_are_pending(
    make_app: MakeApp, tmp_path: Path
) -> None:
    (tmp_path / "test_pending_0001.py").write_text(PENDING_REVISION)

    class Unmigrated:
        """A module whose tables were never created."""

        @staticmethod
        @hookimpl
        def loyalty_module() -> ModuleInfo:
            return ModuleInfo(name="unmigrated", version="1.0.0", description="Ahead of the DB.")

        @staticmethod
        @hookimpl
        def loyalty_migrations() -> Path:
            return tmp_path

    running = await make_app(build_registry(plugins=[Unmigrated], load_entry_points=False))

    response = await running.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "test_pending_0001" in response.json()["reasons"][0]


async def test_metrics_count_requests_by_operation_and_outcome(make_app: MakeApp) -> None:
    running = await make_app()
    await running.client.post("/graphql", json={"query": "{ __typename }"})
    await running.client.post("/graphql", json={"query": "{ nope }"})
    await running.client.post("/graphql", json={"query": "mutation { __typename }"})

    response = await running.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    metrics = response.text
    assert 'loyalty_graphql_requests_total{operation="query",outcome="ok"} 1.0' in metrics
    assert 'loyalty_graphql_requests_total{operation="mutation",outcome="ok"} 1.0' in metrics
    assert 'loyalty_graphql_requests_total{operation="unknown",outcome="invalid"} 1.0' in metrics
    assert 'loyalty_graphql_request_duration_seconds_bucket{le="0.5",operation="query"}' in (
        metrics
    )
    assert "loyalty_schema_cache_size " in metrics
    assert "loyalty_schema_builds_total " in metrics
