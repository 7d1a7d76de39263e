"""The sign-in example of docs/modules/onboarding.md, run as written: each numbered step's
``graphql`` block is sent with the public enrolment key and the ``json`` block under it as
its variables. ``"$ATTEMPT_ID"`` is the id the first step answered, ``"$CODE"`` the code the
development sender recorded for Mia; the session the second step answers must then be Mia's
Bearer credential, as the guide says."""

from __future__ import annotations

from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, graphql

from tests.api import enrol
from tests.guides import Step, placeholders, steps, substitute
from tests.onboarding import onboarding_gateway
from tests.test_onboarding_sign_in import VIEWER, Portal


def sign_in() -> list[Step]:
    return steps("onboarding.md", "Sign-in by one-time code")


def test_the_sign_in_example_has_two_steps_with_known_placeholders() -> None:
    found = sign_in()
    assert len(found) == 2
    assert placeholders(found) == {"ATTEMPT_ID", "CODE"}


async def test_the_sign_in_example_runs_as_written(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    portal = await Portal.open(await onboarding_gateway(make_app), db, tenant)
    mia = await enrol(portal.client, tenant.id, "mia@example.com")
    names: dict[str, str] = {}
    answers: list[dict[str, Any]] = []
    for step in sign_in():
        body = await graphql(
            portal.client, step.operation, substitute(step.variables, names), api_key=portal.key
        )
        assert "errors" not in body, (step.operation, body)
        [answer] = body["data"].values()
        assert answer["errors"] == [], (step.operation, answer)
        answers.append(answer)
        if len(answers) == 1:
            names = {"ATTEMPT_ID": answer["attemptId"], "CODE": await portal.code_sent_to(mia)}
    session = answers[1]
    assert session["memberId"] == mia
    viewer = await graphql(portal.client, VIEWER, token=session["token"])
    assert viewer["data"]["viewer"]["member"] == {"id": mia}
