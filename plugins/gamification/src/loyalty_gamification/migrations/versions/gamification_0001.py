"""gamification: badge definitions, members' progress, its explanation and the awards.

Revision ID: gamification_0001
Revises:
Create Date: 2026-12-04 11:00:00

The module's first revision: a base of its own (branch label ``gamification``) that depends
on the core's campaign health revision (the latest when it was written). Every table is
secured with row-level security; contributions, the explanation of every progress, are
insert-only for the app role (a refund adds a negative row, it never edits one).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from loyalty_core.sdk import secure_tenant_table

revision: str = "gamification_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("gamification",)
depends_on: str | Sequence[str] | None = "0008_campaign_health"

TABLES = (
    "gamification_catalogues",
    "gamification_badges",
    "gamification_badge_progress",
    "gamification_badge_days",
    "gamification_badge_contributions",
    "gamification_badge_awards",
    "gamification_streaks",
    "gamification_member_streaks",
    "gamification_leaderboards",
    "gamification_board_scores",
    "gamification_players",
    "gamification_board_payouts",
    "gamification_challenges",
    "gamification_challenge_progress",
)


def upgrade() -> None:
    op.create_table('gamification_catalogues',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_gamification_catalogues_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_gamification_catalogues'))
    )
    op.create_table('gamification_badges',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('condition', sa.Text(), server_default='', nullable=False),
    sa.Column('measure', sa.String(length=8), nullable=False),
    sa.Column('sum_field', sa.String(length=200), nullable=True),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('repeatable', sa.Boolean(), nullable=False),
    sa.Column('secret', sa.Boolean(), nullable=False),
    sa.Column('revoke_on_refund', sa.Boolean(), nullable=False),
    sa.Column('daily_cap', sa.BigInteger(), nullable=True),
    sa.Column('reward_points', sa.BigInteger(), nullable=False),
    sa.Column('reward_asset', sa.String(length=32), nullable=False),
    sa.Column('reward_effect', postgresql.JSONB(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('failures', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(measure = 'sum') = (sum_field IS NOT NULL)", name=op.f('ck_gamification_badges_sum_field')),
    sa.CheckConstraint("measure IN ('count', 'sum')", name=op.f('ck_gamification_badges_measure')),
    sa.CheckConstraint("period <> 'window' OR (starts_at IS NOT NULL AND ends_at IS NOT NULL AND starts_at < ends_at)", name=op.f('ck_gamification_badges_window')),
    sa.CheckConstraint("period IN ('all_time', 'week', 'month', 'window')", name=op.f('ck_gamification_badges_period')),
    sa.CheckConstraint("status IN ('active', 'archived')", name=op.f('ck_gamification_badges_status')),
    sa.CheckConstraint('daily_cap IS NULL OR daily_cap > 0', name=op.f('ck_gamification_badges_daily_cap_positive')),
    sa.CheckConstraint('reward_points >= 0', name=op.f('ck_gamification_badges_reward_not_negative')),
    sa.CheckConstraint('target > 0', name=op.f('ck_gamification_badges_target_positive')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_gamification_badges_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_gamification_badges'))
    )
    op.create_table('gamification_badge_progress',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('badge_id', sa.UUID(), nullable=False),
    sa.Column('period_key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('repeatable', sa.Boolean(), nullable=False),
    sa.Column('earned', sa.Integer(), nullable=False),
    sa.Column('awarded', sa.Integer(), nullable=False),
    sa.Column('change', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'badge_id'], ['gamification_badges.tenant_id', 'gamification_badges.id'], name='fk_gamification_badge_progress_badge'),
    sa.PrimaryKeyConstraint('tenant_id', 'member_id', 'badge_id', 'period_key', name=op.f('pk_gamification_badge_progress'))
    )
    op.create_table('gamification_badge_days',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('badge_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('granted', sa.BigInteger(), nullable=False),
    sa.Column('cap', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'badge_id'], ['gamification_badges.tenant_id', 'gamification_badges.id'], name='fk_gamification_badge_days_badge'),
    sa.PrimaryKeyConstraint('tenant_id', 'badge_id', 'member_id', 'day', name=op.f('pk_gamification_badge_days'))
    )
    op.create_table('gamification_badge_contributions',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('badge_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('period_key', sa.String(length=40), nullable=False),
    sa.Column('purchase_event_id', sa.UUID(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('offered', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'badge_id'], ['gamification_badges.tenant_id', 'gamification_badges.id'], name='fk_gamification_badge_contributions_badge'),
    sa.PrimaryKeyConstraint('tenant_id', 'event_id', 'badge_id', name=op.f('pk_gamification_badge_contributions'))
    )
    op.create_index('ix_gamification_badge_contributions_progress', 'gamification_badge_contributions', ['tenant_id', 'member_id', 'badge_id', 'period_key', 'event_id'], unique=False)
    op.create_index('ix_gamification_badge_contributions_purchase', 'gamification_badge_contributions', ['tenant_id', 'purchase_event_id'], unique=False, postgresql_where=sa.text('purchase_event_id IS NOT NULL'))
    op.create_table('gamification_badge_awards',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('badge_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('period_key', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('transaction_id', sa.UUID(), nullable=True),
    sa.Column('earned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.UUID(), nullable=True),
    sa.Column('revocation_transaction_id', sa.UUID(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'badge_id'], ['gamification_badges.tenant_id', 'gamification_badges.id'], name='fk_gamification_badge_awards_badge'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_gamification_badge_awards')),
    sa.UniqueConstraint('tenant_id', 'badge_id', 'member_id', 'period_key', 'seq', name='uq_gamification_badge_awards_completion')
    )
    op.create_index('ix_gamification_badge_awards_member', 'gamification_badge_awards', ['tenant_id', 'member_id', 'earned_at'], unique=False)
    op.create_table('gamification_streaks',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('condition', sa.Text(), server_default='', nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('freeze_every', sa.Integer(), nullable=True),
    sa.Column('max_freezes', sa.Integer(), nullable=False),
    sa.Column('milestones', postgresql.JSONB(), nullable=False),
    sa.Column('reward_asset', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('failures', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('active', 'archived')", name=op.f('ck_gamification_streaks_status')),
    sa.CheckConstraint("unit IN ('day', 'week')", name=op.f('ck_gamification_streaks_unit')),
    sa.CheckConstraint('freeze_every IS NULL OR freeze_every > 0', name=op.f('ck_gamification_streaks_freeze_every_positive')),
    sa.CheckConstraint('max_freezes >= 0', name=op.f('ck_gamification_streaks_max_freezes_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_gamification_streaks_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_gamification_streaks'))
    )
    op.create_table('gamification_member_streaks',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('streak_id', sa.UUID(), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('best', sa.Integer(), nullable=False),
    sa.Column('started_unit', sa.Integer(), nullable=False),
    sa.Column('last_unit', sa.Integer(), nullable=False),
    sa.Column('freezes', sa.Integer(), nullable=False),
    sa.Column('freezes_spent', sa.Integer(), nullable=False),
    sa.Column('freeze_every', sa.Integer(), nullable=False),
    sa.Column('max_freezes', sa.Integer(), nullable=False),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'streak_id'], ['gamification_streaks.tenant_id', 'gamification_streaks.id'], name='fk_gamification_member_streaks_streak'),
    sa.PrimaryKeyConstraint('tenant_id', 'member_id', 'streak_id', name=op.f('pk_gamification_member_streaks'))
    )
    op.create_table('gamification_leaderboards',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('metric', sa.String(length=12), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=True),
    sa.Column('field', sa.String(length=200), nullable=True),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('prizes', postgresql.JSONB(), nullable=False),
    sa.Column('reward_asset', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(metric = 'event_field') = (field IS NOT NULL)", name=op.f('ck_gamification_leaderboards_field')),
    sa.CheckConstraint("metric IN ('spend', 'visits', 'badges', 'event_field')", name=op.f('ck_gamification_leaderboards_metric')),
    sa.CheckConstraint("period IN ('all_time', 'week', 'month')", name=op.f('ck_gamification_leaderboards_period')),
    sa.CheckConstraint("status IN ('active', 'archived')", name=op.f('ck_gamification_leaderboards_status')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_gamification_leaderboards_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_gamification_leaderboards'))
    )
    op.create_table('gamification_board_scores',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('board_id', sa.UUID(), nullable=False),
    sa.Column('window_key', sa.String(length=40), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('score', sa.BigInteger(), nullable=False),
    sa.Column('reached_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'board_id'], ['gamification_leaderboards.tenant_id', 'gamification_leaderboards.id'], name='fk_gamification_board_scores_board'),
    sa.PrimaryKeyConstraint('tenant_id', 'board_id', 'window_key', 'member_id', name=op.f('pk_gamification_board_scores'))
    )
    op.create_index('ix_gamification_board_scores_rank', 'gamification_board_scores', ['tenant_id', 'board_id', 'window_key', sa.literal_column('score DESC'), 'reached_at', 'member_id'], unique=False)
    op.create_table('gamification_players',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('display_name', sa.String(length=40), nullable=True),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'member_id', name=op.f('pk_gamification_players'))
    )
    op.create_table('gamification_board_payouts',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('board_id', sa.UUID(), nullable=False),
    sa.Column('window_key', sa.String(length=40), nullable=False),
    sa.Column('winners', sa.Integer(), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'board_id'], ['gamification_leaderboards.tenant_id', 'gamification_leaderboards.id'], name='fk_gamification_board_payouts_board'),
    sa.PrimaryKeyConstraint('tenant_id', 'board_id', 'window_key', name=op.f('pk_gamification_board_payouts'))
    )
    op.create_table('gamification_challenges',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ordered', sa.Boolean(), nullable=False),
    sa.Column('opt_in', sa.Boolean(), nullable=False),
    sa.Column('segment', sa.String(length=100), nullable=True),
    sa.Column('steps', postgresql.JSONB(), nullable=False),
    sa.Column('reward_points', sa.BigInteger(), nullable=False),
    sa.Column('reward_asset', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('failures', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('active', 'archived')", name=op.f('ck_gamification_challenges_status')),
    sa.CheckConstraint('reward_points >= 0', name=op.f('ck_gamification_challenges_reward_not_negative')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_gamification_challenges_window')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_gamification_challenges_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_gamification_challenges'))
    )
    op.create_table('gamification_challenge_progress',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('challenge_id', sa.UUID(), nullable=False),
    sa.Column('counts', postgresql.JSONB(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.UUID(), nullable=True),
    sa.Column('transaction_id', sa.UUID(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'challenge_id'], ['gamification_challenges.tenant_id', 'gamification_challenges.id'], name='fk_gamification_challenge_progress_challenge'),
    sa.PrimaryKeyConstraint('tenant_id', 'member_id', 'challenge_id', name=op.f('pk_gamification_challenge_progress'))
    )
    for table in TABLES:
        secure_tenant_table(op, table, immutable=table == "gamification_badge_contributions")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
