"""The onboarding tables, all named ``onboarding_*`` and secured by tenant like the core's.

Enrolments keep the contact data a person typed until they become a member, and the
normalised forms (``email_key``, ``phone_key``) the duplicate check compares. The consent
table is the history: a change is a new row, never an update.
"""

from __future__ import annotations

from loyalty_core.sdk import created_at_column, id_column, metadata, tenant_id_column
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

enrolments = Table(
    "onboarding_enrolments",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("channel", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("review", String(16)),
    Column("review_reason", String(200)),
    Column("email", String(320)),
    Column("phone", String(20)),
    Column("email_key", String(320)),
    Column("phone_key", String(20)),
    Column("card_number", String(32)),
    Column("profile", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("referral_code", String(16)),
    Column("referrer_id", UUID(as_uuid=True)),
    Column("member_id", UUID(as_uuid=True)),
    created_at_column(),
    Column("verified_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("first_purchase_at", DateTime(timezone=True)),
    Index("ix_onboarding_enrolments_email_key", "tenant_id", "email_key"),
    Index("ix_onboarding_enrolments_phone_key", "tenant_id", "phone_key"),
    Index("ix_onboarding_enrolments_member", "tenant_id", "member_id"),
)

verifications = Table(
    "onboarding_verifications",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("enrolment_id", UUID(as_uuid=True), nullable=False),
    Column("method", String(8), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("consumed_at", DateTime(timezone=True)),
    created_at_column(),
    ForeignKeyConstraint(
        ["tenant_id", "enrolment_id"],
        ["onboarding_enrolments.tenant_id", "onboarding_enrolments.id"],
    ),
    Index("ix_onboarding_verifications_enrolment", "tenant_id", "enrolment_id"),
)

consents = Table(
    "onboarding_consents",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("text_version", String(64)),
    Column("channel", String(16), nullable=False),
    Column("source", String(200), nullable=False),
    Column("actor", String(200), nullable=False),
    created_at_column(),
    Index("ix_onboarding_consents_member", "tenant_id", "member_id", "purpose"),
)

messages = Table(
    "onboarding_messages",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("enrolment_id", UUID(as_uuid=True)),
    Column("member_id", UUID(as_uuid=True)),
    Column("medium", String(8), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    created_at_column(),
    Index("ix_onboarding_messages_enrolment", "tenant_id", "enrolment_id"),
    Index("ix_onboarding_messages_member", "tenant_id", "member_id"),
)
"""What the senders sent: about an enrolment (``enrolment_id``) or to a member signing in
(``member_id``), so a member's erasure finds both."""

sign_ins = Table(
    "onboarding_sign_ins",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("member_id", UUID(as_uuid=True)),
    Column("address_key", String(64), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("consumed_at", DateTime(timezone=True)),
    created_at_column(),
    Index("ix_onboarding_sign_ins_address", "tenant_id", "address_key", "created_at"),
    Index("ix_onboarding_sign_ins_member", "tenant_id", "member_id"),
)
"""Sign-in attempts by one-time code. ``member_id`` is null when the address belongs to no
member (the attempt exists all the same, so the answer reveals nothing); ``address_key`` is
a hash of the tenant and the address, never the address, so a stranger's typed e-mail is not
kept."""

referral_codes = Table(
    "onboarding_referral_codes",
    metadata,
    tenant_id_column(),
    Column("member_id", UUID(as_uuid=True), primary_key=True, nullable=False),
    Column("code", String(16), nullable=False),
    created_at_column(),
    UniqueConstraint("tenant_id", "code", name="uq_onboarding_referral_codes_code"),
)

referrals = Table(
    "onboarding_referrals",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("referrer_id", UUID(as_uuid=True), nullable=False),
    Column("referee_id", UUID(as_uuid=True), nullable=False),
    Column("status", String(16), nullable=False),
    created_at_column(),
    Column("rewarded_at", DateTime(timezone=True)),
    UniqueConstraint("tenant_id", "referee_id", name="uq_onboarding_referrals_referee"),
    Index("ix_onboarding_referrals_referrer", "tenant_id", "referrer_id"),
)

cards = Table(
    "onboarding_cards",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("number", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    created_at_column(),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("issued_by", String(200)),
    Column("blocked_at", DateTime(timezone=True)),
    Column("blocked_by", String(200)),
    Column("replaced_by", UUID(as_uuid=True)),
    UniqueConstraint("tenant_id", "number", name="uq_onboarding_cards_number"),
    Index("ix_onboarding_cards_member", "tenant_id", "member_id"),
)

TABLES = (
    enrolments,
    verifications,
    consents,
    messages,
    referral_codes,
    referrals,
    cards,
    sign_ins,
)

__all__ = [
    "TABLES",
    "cards",
    "consents",
    "enrolments",
    "messages",
    "referral_codes",
    "referrals",
    "sign_ins",
    "verifications",
]
