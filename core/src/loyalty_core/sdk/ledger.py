"""The ledger as modules use it: ``from loyalty_core.sdk import ledger``.

Every movement of value a module makes goes through here, so it is double-entry, idempotent
(by the posting's key), tenant-scoped and safe under concurrency like the core's own.
Member points move with ``earn``/``spend``/``reverse`` (they live in lots); stored value and
other lot-free balances move with ``post`` between accounts from ``owned_account`` and
``tenant_account``. Two-phase payments set value aside with ``place_hold``, then close the
hold with ``capture_hold`` (which posts the real debit) or ``release_hold`` (void, expiry).
"""

from loyalty_core.ledger import service as _service
from loyalty_core.ledger.assets import create_asset, ensure_asset, update_asset
from loyalty_core.ledger.holds import (
    capture_hold,
    get_hold,
    place_hold,
    release_hold,
)
from loyalty_core.ledger.models import (
    Asset,
    AssetKind,
    Balance,
    Cause,
    ExpiryPolicy,
    Funds,
    Hold,
    HoldStatus,
    LedgerTransaction,
    Posted,
    Purpose,
    TransactionKind,
)
from loyalty_core.ledger.recording import recorded
from loyalty_core.ledger.repository import (
    account_balance,
    account_funds,
    get_asset,
    get_transaction,
    lock_account,
    member_account,
    member_movement,
    owned_account,
    tenant_account,
)
from loyalty_core.ledger.service import Posting, balances
from loyalty_core.modules import redemptions as _redemptions
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE

# What a module posts while handling a domain event shows in the answer of the write that
# published it (``eventIngest`` lists a stamp card's reward): see ``ledger.recording``.
# A spend announces ``points.redeemed`` and a give-back ``points.refunded``, whichever
# module makes them: see ``modules.redemptions``.
earn = recorded(_service.earn)
spend = recorded(_redemptions.spend)
reverse = recorded(_service.reverse)
give_back = recorded(_redemptions.give_back)
post = recorded(_service.post)

__all__ = [
    "DEFAULT_ASSET_CODE",
    "Asset",
    "AssetKind",
    "Balance",
    "Cause",
    "ExpiryPolicy",
    "Funds",
    "Hold",
    "HoldStatus",
    "LedgerTransaction",
    "Posted",
    "Posting",
    "Purpose",
    "TransactionKind",
    "account_balance",
    "account_funds",
    "balances",
    "capture_hold",
    "create_asset",
    "earn",
    "ensure_asset",
    "get_asset",
    "get_hold",
    "get_transaction",
    "give_back",
    "lock_account",
    "member_account",
    "member_movement",
    "owned_account",
    "place_hold",
    "post",
    "release_hold",
    "reverse",
    "spend",
    "tenant_account",
    "update_asset",
]
