"""The account's closed vocabularies and policy tables (docs/account.md); nothing else decides them."""

from __future__ import annotations

from datetime import timedelta

FREE = "free"
MONTHLY = "monthly"
YEARLY = "yearly"
PERMANENT = "permanent"
TIERS = (FREE, MONTHLY, YEARLY, PERMANENT)
PAID_TIERS = frozenset({MONTHLY, YEARLY, PERMANENT})

#: max_registered_race_names per tier.
MAX_REGISTERED_RACE_NAMES = {FREE: 1, MONTHLY: 5, YEARLY: 5, PERMANENT: 5}

#: When an administrator grants a paid tier without ends_at, it ends this long after starts_at.
DEFAULT_DURATION = {MONTHLY: timedelta(days=30), YEARLY: timedelta(days=365)}

#: The entitlement every new account starts with.
INITIAL_SOURCE = "auth_registration"
INITIAL_REASON = "initial_free_entitlement"
#: The snapshot shown once a paid entitlement has ended.
EXPIRY_SOURCE = "entitlement_expiry"
EXPIRY_REASON = "paid_entitlement_expired"
#: reason_code of an administrator's grant that names none.
DEFAULT_ENTITLEMENT_REASON = "admin_entitlement_change"
#: Actor of what the account service does by itself.
SERVICE_ACTOR_TYPE = "service"
SERVICE_ACTOR_ID = "account"

PERMANENT_BLOCK = "permanent_block"
SANCTION_CODES = (PERMANENT_BLOCK,)
#: block_reason_code of EnsureAccountByEmail's `blocked` outcome.
BLOCK_REASON = "policy_blocked"

#: Per-user limit overrides an administrator may set: code → (lowest, highest) value.
LIMIT_CODES: dict[str, tuple[int, int]] = {
    "max_registered_race_names": (0, 100),
    "max_active_games": (0, 100),
    "max_pending_applications": (0, 100),
    "max_pending_invites": (0, 100),
}

#: Registration context fallbacks (when auth passes something unusable).
DEFAULT_LANGUAGE = "en"
DEFAULT_TIME_ZONE = "UTC"

#: Lifecycle event kinds (AccountLifecycleEvent.kind).
SOFT_DELETED = "soft_deleted"
PERMANENTLY_BLOCKED = "permanently_blocked"
LIFECYCLE_TOPIC = "galaxy.account.lifecycle.v1"
#: Every change of what UserAccountGet answers for a user (AccountChanged; readers forget, docs/account.md).
CHANGES_TOPIC = "galaxy.account.changes.v1"
