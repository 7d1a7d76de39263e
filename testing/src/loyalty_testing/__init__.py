"""The test kit for modules of the loyalty orchestrator.

Installing ``loyalty-testing`` registers its pytest plugin (:mod:`loyalty_testing.plugin`),
whose fixtures are ``database_urls``, ``db``, ``owner_db``, ``loyalty_registry``, ``tenant``,
``member``, ``make_app``, ``enable_module`` and ``till_key``. This package holds the helpers
a test imports: credentials, the ``graphql`` call and the fixtures' types.
"""

from loyalty_testing.database import (
    APP_ROLE,
    DatabaseUrls,
    create_test_tenant,
    insert_member,
    module_migrations,
)
from loyalty_testing.gateway import (
    TEST_JWT_SECRET,
    TILL_SCOPES,
    EnableModule,
    MakeApp,
    RunningGateway,
    TillKey,
    admin_token,
    create_till_key,
    disable_for,
    enable_for,
    gateway_settings,
    graphql,
    member_token,
    platform_token,
    token,
)

__all__ = [
    "APP_ROLE",
    "TEST_JWT_SECRET",
    "TILL_SCOPES",
    "DatabaseUrls",
    "EnableModule",
    "MakeApp",
    "RunningGateway",
    "TillKey",
    "admin_token",
    "create_test_tenant",
    "create_till_key",
    "disable_for",
    "enable_for",
    "gateway_settings",
    "graphql",
    "insert_member",
    "member_token",
    "module_migrations",
    "platform_token",
    "token",
]
