"""The module SDK: the only import surface of loyalty modules, first-party or third-party.

A module is a distribution with an entry point in group ``loyalty.modules`` pointing at a
Python module whose functions carry ``@hookimpl``. Everything a module needs from the core
is re-exported here; if something is missing, the SDK grows (modules never import core
internals, and an import-linter contract keeps it so).
"""

from loyalty_core import SDK_VERSION
from loyalty_core.apikeys.service import IssuedApiKey, create_api_key
from loyalty_core.auth import (
    Principal,
    Role,
    Scope,
    may_read_member,
    require_admin,
    require_principal,
    require_scope,
    require_tenant,
)
from loyalty_core.context import RequestContext
from loyalty_core.db.engine import Database
from loyalty_core.db.errors import db_answer, db_answers
from loyalty_core.db.metadata import created_at_column, id_column, metadata, tenant_id_column
from loyalty_core.db.prepared import Prepared
from loyalty_core.db.security import secure_tenant_table
from loyalty_core.errors import (
    AuthError,
    Conflict,
    ErrorCode,
    Forbidden,
    InsufficientFunds,
    LoyaltyError,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from loyalty_core.graphql.common import (
    Connection,
    Cursors,
    Edge,
    PageInfo,
    UserError,
    connection,
    page_size,
    require_id,
    run_mutation,
)
from loyalty_core.hashing import fingerprint
from loyalty_core.ids import new_id, parse_id
from loyalty_core.inputs import ITEMS_ALONE, RefusedItem, aware_datetime, check_json, check_text
from loyalty_core.members.graphql import IdentifierInput, Member
from loyalty_core.modules.contributions import (
    DemoContext,
    DemoMember,
    DemoSeed,
    DomainEvent,
    EffectContext,
    EffectResult,
    EventHandler,
    EventTypeSpec,
    HandlerContext,
    HandlerPhase,
    Job,
    JobContext,
    MemberData,
    MemberDataContext,
    MemberFact,
    ModuleInfo,
    NoSettings,
    RuleEffect,
    SchemaContribution,
    TenantProvisioning,
    TypeExtension,
)
from loyalty_core.modules.hookspecs import hookimpl, hookspec
from loyalty_core.modules.manager import ModuleRegistry
from loyalty_core.money import is_currency, minor_units
from loyalty_core.sdk import (
    codes,
    conditions,
    effects,
    events,
    ledger,
    members,
    sessions,
    tenants,
)
from loyalty_core.sweeps import sweep
from loyalty_core.tenants.models import Tenant

__all__ = [
    "ITEMS_ALONE",
    "SDK_VERSION",
    "AuthError",
    "Conflict",
    "Connection",
    "Cursors",
    "Database",
    "DemoContext",
    "DemoMember",
    "DemoSeed",
    "DomainEvent",
    "Edge",
    "EffectContext",
    "EffectResult",
    "ErrorCode",
    "EventHandler",
    "EventTypeSpec",
    "Forbidden",
    "HandlerContext",
    "HandlerPhase",
    "IdentifierInput",
    "InsufficientFunds",
    "IssuedApiKey",
    "Job",
    "JobContext",
    "LoyaltyError",
    "Member",
    "MemberData",
    "MemberDataContext",
    "MemberFact",
    "ModuleInfo",
    "ModuleRegistry",
    "NoSettings",
    "NotFound",
    "PageInfo",
    "Prepared",
    "Principal",
    "RefusedItem",
    "RequestContext",
    "Role",
    "RuleEffect",
    "SchemaContribution",
    "Scope",
    "Tenant",
    "TenantProvisioning",
    "TypeExtension",
    "Unauthenticated",
    "UserError",
    "ValidationFailed",
    "aware_datetime",
    "check_json",
    "check_text",
    "codes",
    "conditions",
    "connection",
    "create_api_key",
    "created_at_column",
    "db_answer",
    "db_answers",
    "effects",
    "events",
    "fingerprint",
    "hookimpl",
    "hookspec",
    "id_column",
    "is_currency",
    "ledger",
    "may_read_member",
    "members",
    "metadata",
    "minor_units",
    "new_id",
    "page_size",
    "parse_id",
    "require_admin",
    "require_id",
    "require_principal",
    "require_scope",
    "require_tenant",
    "run_mutation",
    "secure_tenant_table",
    "sessions",
    "sweep",
    "tenant_id_column",
    "tenants",
]
