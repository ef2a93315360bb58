"""The database schema (SQLAlchemy Core), shared by every part of wxqr.

Times are stored as integer Unix seconds (UTC): WeChat's own ``CreateTime`` is one, the
value is portable between SQLite and PostgreSQL, and bucketing by the account's time zone
is done by the stats service. Secrets (token, app secret, AES key) live only in
``accounts`` and never leave the store layer except as typed values with hidden reprs;
with ``WXQR_SECRET_KEY`` they are stored encrypted (wxqr.service.secrets_box).

Change this module by adding, not renaming; Alembic migrations under
``wxqr/store/migrations`` must match it (a test compares them).
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy import event as sa_event

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Big integers that stay plain INTEGER on SQLite (so an INTEGER PRIMARY KEY is the rowid).
BigInt = BigInteger().with_variant(Integer(), "sqlite")


def _secret_column_type(plain_length: int, sealed_length: int) -> String:
    """A secret's column: room for its ``enc:v1:`` Fernet form on PostgreSQL (revision
    0005). SQLite keeps the first declared length: it never enforces one, and changing a
    declared type there means rebuilding the table (whose DROP would cascade to children).
    Fernet's form of n bytes takes 7 + 4 * ceil((57 + 16 * (n // 16 + 1)) / 3) characters.
    """
    return String(plain_length).with_variant(String(sealed_length), "postgresql")


accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("appid", String(64), nullable=False, unique=True),
    Column("name", String(128), nullable=False, server_default=""),
    # The account's original id (gh_…), the ToUserName of its pushes; learnt on first push.
    Column("original_id", String(64), nullable=True),
    # Secrets: plaintext, or "enc:v1:" + Fernet token with WXQR_SECRET_KEY (secrets_box).
    Column("token", _secret_column_type(128, 512), nullable=False),
    Column("app_secret", _secret_column_type(256, 1024), nullable=True),
    Column("aes_key", _secret_column_type(64, 256), nullable=True),
    Column("encrypt_mode", String(16), nullable=False, server_default="plain"),
    Column("timezone", String(64), nullable=False, server_default="Asia/Shanghai"),
    # Reply (JSON, see wxqr.service replies) to a plain subscribe; NULL = "success".
    Column("default_subscribe_reply", JSON, nullable=True),
    # Next permanent integer scene id wxqr allocates (ids are never reused).
    Column("next_permanent_scene_id", Integer, nullable=False, server_default="1"),
    Column("created_at", BigInt, nullable=False),
)

channels = Table(
    "channels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("group_name", String(200), nullable=True),
    Column("tags", JSON, nullable=False, default=list),
    Column("payload", JSON, nullable=True),
    Column("reply", JSON, nullable=True),
    # Names of WeChat user tags to apply to a follower who scans this channel's codes.
    Column("follower_tags", JSON, nullable=False, default=list),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", BigInt, nullable=False),
    Column("updated_at", BigInt, nullable=False),
    UniqueConstraint("account_id", "name"),
    Index(None, "account_id", "group_name"),
)

# One row per scene value an account has issued a code for (or seen in a push and
# registered later). The scene value is unique per account whatever the code kind:
# WeChat's EventKey carries only the value, so two codes sharing it could not be told apart.
scenes = Table(
    "scenes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("channel_id", ForeignKey("channels.id", ondelete="SET NULL"), nullable=True),
    Column("scene", String(64), nullable=False),
    Column("scene_type", String(8), nullable=False),  # "id" | "str"
    Column("qr_kind", String(16), nullable=False),  # "temporary" | "permanent"
    Column("ticket", String(512), nullable=True),
    Column("url", String(256), nullable=True),
    Column("expire_seconds", Integer, nullable=True),
    Column("expires_at", BigInt, nullable=True),
    # Per-scene passive reply (JSON); overrides the channel's.
    Column("reply", JSON, nullable=True),
    Column("created_at", BigInt, nullable=False),
    UniqueConstraint("account_id", "scene"),
    Index(None, "channel_id"),
)

# The append-only event log: every push wxqr answered, exactly once.
events = Table(
    "events",
    metadata,
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    # protocol.dedup_key(push): equal for WeChat's retries of one push.
    Column("dedup_key", String(40), nullable=False),
    # subscribe_scan | scan | subscribe | unsubscribe | other_event | message
    Column("kind", String(16), nullable=False),
    Column("openid", String(64), nullable=False),
    Column("msg_type", String(32), nullable=False),
    Column("event", String(64), nullable=False, server_default=""),
    Column("event_key", String(256), nullable=False, server_default=""),
    Column("scene", String(64), nullable=True),
    Column("ticket", String(512), nullable=True),
    Column("scene_ref", ForeignKey("scenes.id", ondelete="SET NULL"), nullable=True),
    Column("channel_id", ForeignKey("channels.id", ondelete="SET NULL"), nullable=True),
    # A scan (subscribe_scan or scan) whose scene wxqr did not know when it arrived.
    Column("orphan", Boolean, nullable=False, server_default="0"),
    Column("create_time", BigInt, nullable=False),  # WeChat's CreateTime (Unix s)
    Column("received_at", BigInt, nullable=False),  # wxqr's clock, Unix ms
    Column("raw_xml", Text, nullable=True),  # the plaintext push
    UniqueConstraint("account_id", "dedup_key"),
    Index(None, "account_id", "create_time"),
    Index(None, "channel_id", "create_time"),
    Index(None, "account_id", "openid", "create_time"),
)

followers = Table(
    "followers",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("openid", String(64), primary_key=True),
    Column("following", Boolean, nullable=False),
    Column("first_follow_at", BigInt, nullable=True),
    Column("first_scene", String(64), nullable=True),
    Column("first_channel_id", ForeignKey("channels.id", ondelete="SET NULL"), nullable=True),
    Column("last_follow_at", BigInt, nullable=True),
    Column("last_scene", String(64), nullable=True),
    Column("last_channel_id", ForeignKey("channels.id", ondelete="SET NULL"), nullable=True),
    Column("unfollowed_at", BigInt, nullable=True),
    Column("refollow_count", Integer, nullable=False, server_default="0"),
    Column("updated_at", BigInt, nullable=False),
    # From WeChat's user/info (fetched by the background worker): how WeChat says the
    # user came (subscribe_scene, e.g. ADD_SCENE_QR_CODE), its QR scene, when fetched.
    Column("wechat_subscribe_scene", String(64), nullable=True),
    Column("wechat_qr_scene", String(64), nullable=True),
    Column("user_info_at", BigInt, nullable=True),
    Index(None, "account_id", "first_channel_id"),
)

# The replay guard of the webhook (issue 14): which plaintext was recorded under each
# signed (timestamp, nonce, signature) of an account, written by the group-commit writer
# in the transaction that stores the push; kept for the freshness window, then pruned.
push_signatures = Table(
    "push_signatures",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("signed_key", String(32), primary_key=True),  # blake2b-128 hex of the triple
    Column("body_digest", String(32), nullable=False),  # blake2b-128 hex of the plaintext
    Column("seen_at", BigInt, nullable=False),  # Unix s, for pruning
    # BRIN on PostgreSQL: seen_at only grows, so a block-range index serves the prune
    # at almost no cost per insert (a b-tree here cost the hot path a third index write).
    Index(None, "seen_at", postgresql_using="brin"),
)

# Work that needs WeChat (tagging, user info), fed from the store, retried by a worker.
jobs = Table(
    "jobs",
    metadata,
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("run_after", BigInt, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", BigInt, nullable=False),
    Column("updated_at", BigInt, nullable=False),
    Index(None, "status", "run_after"),
)

# Rendered or downloaded QR images, cached: a ticket's image never changes.
code_images = Table(
    "code_images",
    metadata,
    Column("scene_ref", ForeignKey("scenes.id", ondelete="CASCADE"), primary_key=True),
    # "wechat.jpg" for showqrcode, else a key of the render options (format, size, colours…)
    Column("variant", String(128), primary_key=True),
    Column("content_type", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", BigInt, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(128), nullable=False, unique=True),
    Column("created_at", BigInt, nullable=False),
    Column("last_used_at", BigInt, nullable=True),
    Column("revoked_at", BigInt, nullable=True),
    # The key's scope (docs/security.md "API keys and scopes"): the appids of the accounts
    # it may touch (a JSON list; NULL = every account, the rights of keys made before
    # scopes), and whether it may only read.
    Column("account_appids", JSON, nullable=True),
    Column("read_only", Boolean, nullable=False, server_default="0"),
)

# Dashboard sessions: the cookie holds a random token, the row its SHA-256 (a copy of
# the table gives no usable cookie). Logout revokes the row; expired rows are pruned at
# each login. ``user_id`` is for several dashboard users later (issue 18); NULL = admin.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=True),
    Column("created_at", BigInt, nullable=False),
    Column("expires_at", BigInt, nullable=False),
    Column("revoked_at", BigInt, nullable=True),
    Index(None, "expires_at"),
)

# Failed-login counts per client address, shared by every serving process when there is
# no Redis (wxqr.service.login_throttle.StoreLoginThrottle): a fixed window per client.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("client", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", BigInt, nullable=False),  # Unix ms
    Index(None, "window_start"),
)

# Small install-wide settings, e.g. the dashboard admin password hash.
settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", BigInt, nullable=False),
)

# The database hook of the WeChat client's token cache (shared by every worker).
access_tokens = Table(
    "access_tokens",
    metadata,
    Column("appid", String(64), primary_key=True),
    Column("token", _secret_column_type(512, 1024), nullable=True),  # sealed as accounts'
    Column("expires_at", BigInt, nullable=True),  # Unix ms
    Column("lock_owner", String(64), nullable=True),
    Column("lock_until", BigInt, nullable=True),  # Unix ms
    Column("fence", BigInt, nullable=False, server_default="0"),
    Column("updated_at", BigInt, nullable=False),
)

# Outbound webhooks (issue 15): the business systems' HTTPS endpoints and what they get.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    # NULL = every account's events.
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True),
    Column("url", String(2048), nullable=False),
    Column("description", String(500), nullable=False, server_default=""),
    Column("event_types", JSON, nullable=False),  # e.g. ["scan", "follow"]
    Column("enabled", Boolean, nullable=False, server_default="1"),
    # whsec_… signing secret; during a rotation the previous one signs too until
    # previous_secret_until (Unix s).
    Column("secret", String(128), nullable=False),
    Column("previous_secret", String(128), nullable=True),
    Column("previous_secret_until", BigInt, nullable=True),
    # Why wxqr disabled it (410 Gone, failing for a day); NULL when enabled or disabled by hand.
    Column("disabled_reason", String(200), nullable=True),
    # Unix s of the first failure since the last success (NULL = healthy).
    Column("failing_since", BigInt, nullable=True),
    Column("created_at", BigInt, nullable=False),
    Column("updated_at", BigInt, nullable=False),
    Index(None, "account_id"),
)

# The durable outbox: one row per recorded event that endpoints may want, written in the
# event's own transaction (the group commit) while any endpoint is enabled. The delivery
# worker turns rows into webhook_deliveries (one per endpoint and type) and deletes them.
webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("account_id", Integer, nullable=False),
    Column("dedup_key", String(40), nullable=False),
    Column("kind", String(16), nullable=False),  # events.kind
    Column("openid", String(64), nullable=False),
    Column("received_ms", BigInt, nullable=False),
)

# One row per (endpoint, message). endpoint_id has no foreign key on purpose: removing an
# endpoint must never make a worker's transaction fail; its rows are deleted with it.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("endpoint_id", Integer, nullable=False),
    Column("account_id", Integer, nullable=True),
    Column("event_type", String(40), nullable=False),
    # The event it reports: events (account_id, dedup_key); NULL for ping.
    Column("dedup_key", String(40), nullable=True),
    Column("event_id", BigInt, nullable=True),
    # Deliveries of one endpoint for one openid go in id order (NULL: no order).
    Column("openid", String(64), nullable=True),
    # Fixed at the first attempt: the same webhook-id and body on every repeat.
    Column("message_id", String(80), nullable=True),
    Column("body", Text, nullable=True),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_ms", BigInt, nullable=False),  # Unix ms
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_ms", BigInt, nullable=False),  # when the event was received, Unix ms
    Column("delivered_ms", BigInt, nullable=True),
    Index(None, "status", "next_attempt_ms"),
    Index(None, "endpoint_id", "openid", "status"),
    Index(None, "endpoint_id", "id"),
)

# Scan sessions (docs/scan-sessions.md): a temporary string-scene code of its own, in a
# namespace channel scenes can never use (wxqr.service.scan_sessions.SESSION_SCENE_PREFIX),
# completed by the first scan (``once``) or reporting every scan until it expires.
scan_sessions = Table(
    "scan_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("ref", String(128), nullable=True),
    Column("payload", JSON, nullable=True),
    Column("reply", JSON, nullable=True),
    Column("once", Boolean, nullable=False, server_default="1"),
    Column("scene", String(64), nullable=False, unique=True),
    Column("ticket", String(512), nullable=True),
    Column("url", String(256), nullable=True),
    # sha256 of the browser's poll token (the token itself is shown once, at creation).
    Column("poll_token_hash", String(64), nullable=False),
    # pending | scanned | expired | cancelled
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("openid", String(64), nullable=True),
    Column("unionid", String(64), nullable=True),
    Column("followed_now", Boolean, nullable=True),
    Column("scanned_at", BigInt, nullable=True),  # CreateTime of the completing scan
    Column("scans", Integer, nullable=False, server_default="0"),
    Column("expires_at", BigInt, nullable=False),
    Column("created_at", BigInt, nullable=False),
    Column("updated_at", BigInt, nullable=False),
    Index(None, "status", "expires_at"),
    Index(None, "account_id", "created_at"),
)

# (ref ↔ openid) pairs made by completed ``bind`` sessions.
bindings = Table(
    "bindings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("ref", String(128), nullable=False),
    Column("openid", String(64), nullable=False),
    # The session that made it (no foreign key: sessions are pruned, bindings kept).
    Column("session_id", Integer, nullable=True),
    Column("created_at", BigInt, nullable=False),
    UniqueConstraint("account_id", "ref", "openid"),
    Index(None, "account_id", "openid"),
)

# posters: poster templates (issue 19 §3): the artwork (PNG/JPEG, validated and bounded)
# and its layout (code box, captions) as JSON; names are unique per account.
poster_templates = Table(
    "poster_templates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("artwork", LargeBinary, nullable=False),
    Column("artwork_type", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("layout", JSON, nullable=False),
    Column("created_at", BigInt, nullable=False),
    Column("updated_at", BigInt, nullable=False),
    UniqueConstraint("account_id", "name"),
)

# posters: logos of styled codes, one per account (channel_id 0) or per channel.
code_logos = Table(
    "code_logos",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("channel_id", Integer, primary_key=True),  # 0: the account's logo
    Column("content", LargeBinary, nullable=False),
    Column("content_type", String(32), nullable=False),
    Column("created_at", BigInt, nullable=False),
)

# posters: the default style of codes, per account (group_name "") or per group.
code_styles = Table(
    "code_styles",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("group_name", String(200), primary_key=True),  # "": the account default
    Column("style", JSON, nullable=False),
    Column("updated_at", BigInt, nullable=False),
)

# Dashboard users (issue 18): a team with roles instead of one admin password. The role
# is admin | editor | viewer; ``account_appids`` the accounts the user may see (a JSON
# list; NULL = every account, always so for admins); the password an scrypt hash
# (wxqr.service.passwords). Sessions point here through dashboard_sessions.user_id.
dashboard_users = Table(
    "dashboard_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("account_appids", JSON, nullable=True),
    Column("language", String(16), nullable=True),
    Column("created_at", BigInt, nullable=False),
    Column("last_login_at", BigInt, nullable=True),
)

# lifecycle: issue 19 §1-2 (revision 0009).
# A channel's renewal setting: whether the worker renews its temporary code before expiry,
# and how long before (NULL: WXQR_RENEW_LEAD_SECONDS). No row = not renewed.
channel_renewals = Table(
    "channel_renewals",
    metadata,
    Column("channel_id", ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    Column("auto_renew", Boolean, nullable=False, server_default="0"),
    Column("lead_seconds", Integer, nullable=True),
    Column("updated_at", BigInt, nullable=False),
)

# The renewal chore and `wxqr code expiring` look for temporary codes by expiry every minute.
Index(None, scenes.c.qr_kind, scenes.c.expires_at)

# What happened to a temporary code near its end: the code that replaced it (renewal) and
# when the ``code.expiring`` notice went out (each happens once per code).
code_lifecycle = Table(
    "code_lifecycle",
    metadata,
    Column("scene_ref", ForeignKey("scenes.id", ondelete="CASCADE"), primary_key=True),
    Column("renewed_to", ForeignKey("scenes.id", ondelete="SET NULL"), nullable=True),
    Column("renewed_at", BigInt, nullable=True),
    Column("expiring_sent_at", BigInt, nullable=True),
)

# wxqr's own count of a WeChat API's daily calls per account (``qrcode/create``), by the
# China calendar day WeChat's quotas reset on ("YYYY-MM-DD").
wechat_quota_usage = Table(
    "wechat_quota_usage",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("cgi_path", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("used", Integer, nullable=False, server_default="0"),
)

# stats-retention: WeChat's data cube answers per account, endpoint and China day
# (``getusersummary``: the day's rows; ``getusercumulate``: its cumulate_user), as JSON.
# A past day's answer does not change: reconciliation fetches each day once.
datacube_cache = Table(
    "datacube_cache",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("endpoint", String(32), primary_key=True),
    Column("ref_date", String(10), primary_key=True),  # YYYY-MM-DD
    Column("body", Text, nullable=False),
    Column("fetched_at", BigInt, nullable=False),
)

# stats-retention: the spans of time each openid was following (docs/metrics.md,
# "Following at an instant"), computed from the log's follows and unfollows and kept up
# to date at query time from the events after ``follower_spans_progress.last_event_id``.
# ``seq`` 0 is the span of the first follow; ``span_end`` NULL: following still.
follower_spans = Table(
    "follower_spans",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    # Keyed (and, on SQLite, stored) by first follow: a cohort is one range of rows.
    Column("first_follow_at", BigInt, primary_key=True, autoincrement=False),
    Column("openid", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("span_start", BigInt, nullable=False),
    Column("span_end", BigInt, nullable=True),
    Column("channel_id", ForeignKey("channels.id", ondelete="SET NULL"), nullable=True),
    Index(None, "account_id", "openid"),
    # Index-only counts of the spans open (closed) by an instant, per channel.
    Index(None, "account_id", "span_start", "channel_id"),
    Index(None, "account_id", "span_end", "channel_id"),
    sqlite_with_rowid=False,
)

follower_spans_progress = Table(
    "follower_spans_progress",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("last_event_id", BigInt, nullable=False),
)

# -- stats rollups (docs/metrics.md "How it is computed"): derived from ``events`` only,
# rebuilt by ``wxqr stats rebuild``; the ingest only enqueues event ids (a trigger).

# The stats' dense user numbers and each openid's first follow folded so far.
stats_users = Table(
    "stats_users",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("openid", String(64), primary_key=True),
    Column("uid", Integer, nullable=False),
    Column("first_follow_time", BigInt, nullable=True),
    Column("first_follow_id", BigInt, nullable=True),
    Column("first_follow_day", Integer, nullable=True),
    Column(
        "first_follow_channel_id", ForeignKey("channels.id", ondelete="SET NULL"), nullable=True
    ),
    # The latest follow's channel and the latest follow-or-unfollow folded (0012): an
    # event older than that is a late push whose unfollow attributions are recomputed.
    Column("last_follow_channel_id", ForeignKey("channels.id", ondelete="SET NULL"), nullable=True),
    Column("last_touch_time", BigInt, nullable=True),
    Column("last_touch_id", BigInt, nullable=True),
)

# Counted events not yet folded into the rollups (filled by a trigger on ``events``).
stats_pending = Table(
    "stats_pending",
    metadata,
    Column("event_id", BigInt, primary_key=True, autoincrement=False),
)

# Per account: the zone its rollups are in and the next dense user number.
stats_rollup_state = Table(
    "stats_rollup_state",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("timezone", String(64), nullable=False),
    Column("next_uid", Integer, nullable=False),
    Column("built_at", BigInt, nullable=False),
)


def _day_blocks(name: str, owner: Column[int], *extra: Index) -> Table:
    """Per owner and aligned block of ``4**level`` local days from ``block * 4**level``
    (levels 0-3: 1, 4, 16, 64 days; days counted from 1970-01-01 in the account's zone):
    the block's counts, and its scanners' dense user numbers (a serialized pyroaring
    BitMap; ``unique_scanners`` is its size)."""
    return Table(
        name,
        metadata,
        Column("level", Integer, primary_key=True),
        Column("block", Integer, primary_key=True),
        owner,
        Column("scans", Integer, nullable=False),
        Column("unique_scanners", Integer, nullable=False),
        Column("new_followers", Integer, nullable=False),
        Column("returning_followers", Integer, nullable=False),
        Column("unfollows", Integer, nullable=False),  # first touch
        Column("unfollows_last_touch", Integer, nullable=False),  # 0012
        Column("follow_scans", Integer, nullable=False),  # 0012: subscribe_scan
        Column("uids", LargeBinary, nullable=False),
        *extra,
    )


stats_account_blocks = _day_blocks(
    "stats_account_blocks",
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Index(None, "account_id"),
)
stats_channel_blocks = _day_blocks(
    "stats_channel_blocks",
    Column("channel_id", ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    Index(None, "channel_id"),
)

# The ingest's only cost of the rollups: its counted events' ids, queued by the database.
STATS_PENDING_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER stats_pending_on_event AFTER INSERT ON events "
        "WHEN NEW.kind IN ('subscribe_scan', 'scan', 'subscribe', 'unsubscribe') "
        "BEGIN INSERT OR IGNORE INTO stats_pending (event_id) VALUES (NEW.id); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION stats_pending_enqueue() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO stats_pending (event_id) SELECT id FROM stats_new_events "
        "WHERE kind IN ('subscribe_scan', 'scan', 'subscribe', 'unsubscribe') "
        "ON CONFLICT DO NOTHING; RETURN NULL; END $$",
        "CREATE TRIGGER stats_pending_on_event AFTER INSERT ON events "
        "REFERENCING NEW TABLE AS stats_new_events FOR EACH STATEMENT "
        "EXECUTE FUNCTION stats_pending_enqueue()",
    ),
}
STATS_PENDING_DROP: dict[str, tuple[str, ...]] = {
    "sqlite": ("DROP TRIGGER IF EXISTS stats_pending_on_event",),
    "postgresql": (
        "DROP TRIGGER IF EXISTS stats_pending_on_event ON events",
        "DROP FUNCTION IF EXISTS stats_pending_enqueue()",
    ),
}

# The trigger comes and goes with ``events`` (its body names the queue only when it
# fires), so a ``create_all`` of some other tables only (a token cache's) has none.
for _dialect, _statements in STATS_PENDING_DDL.items():
    for _statement in _statements:
        _ddl = DDL(_statement)  # type: ignore[no-untyped-call]
        sa_event.listen(events, "after_create", _ddl.execute_if(dialect=_dialect))
for _dialect, _statements in STATS_PENDING_DROP.items():
    for _statement in _statements:
        _ddl = DDL(_statement)  # type: ignore[no-untyped-call]
        sa_event.listen(events, "before_drop", _ddl.execute_if(dialect=_dialect))

# -- follower summaries (docs/metrics.md "How they are computed"): derived from
# ``follower_spans`` by the same refresh, so that retention and the audience read rows per
# day (and channel), not per follower. ``day`` is a local day number (days since
# 1970-01-01) in ``follower_summary_zones.timezone``, the account's zone when they were
# built; ``day_offset`` is a whole number of days after each member's own first follow.

# Per cohort day (first follows on that day) and day offset: members (first spans), spans
# opening (``joined``) and closing (``departed``) at that offset, first spans closing.
follower_cohorts = Table(
    "follower_cohorts",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column("day_offset", Integer, primary_key=True, autoincrement=False),
    Column("members", Integer, nullable=False),
    Column("joined", Integer, nullable=False),
    Column("departed", Integer, nullable=False),
    Column("first_departed", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# The same per first-touch channel (a deleted channel's rows go with it: its followers
# are then of no channel, which is the account's rows less every channel's).
follower_channel_cohorts = Table(
    "follower_channel_cohorts",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column(
        "channel_id",
        ForeignKey("channels.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("day_offset", Integer, primary_key=True, autoincrement=False),
    Column("members", Integer, nullable=False),
    Column("joined", Integer, nullable=False),
    Column("departed", Integer, nullable=False),
    Column("first_departed", Integer, nullable=False),
    Index(None, "account_id", "channel_id", "day"),
    sqlite_with_rowid=False,
)

# Per local day: spans opening (``opened``) and closing (``closed``) on it.
follower_days = Table(
    "follower_days",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column("opened", Integer, nullable=False),
    Column("closed", Integer, nullable=False),
    sqlite_with_rowid=False,
)

follower_channel_days = Table(
    "follower_channel_days",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column(
        "channel_id",
        ForeignKey("channels.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("opened", Integer, nullable=False),
    Column("closed", Integer, nullable=False),
    Index(None, "account_id", "channel_id", "day"),
    sqlite_with_rowid=False,
)

# Per channel, every day together (the audience per channel now, without a scan of days).
follower_channel_totals = Table(
    "follower_channel_totals",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "channel_id",
        ForeignKey("channels.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("opened", Integer, nullable=False),
    Column("closed", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# The zone the summaries' days are in (another zone than the account's: rebuilt).
follower_summary_zones = Table(
    "follower_summary_zones",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("timezone", String(64), nullable=False),
)

# The orphan scans of a window (the overview's "make this a channel" list) without reading
# the window's other events: orphans are a few percent of the log. The predicate is the
# query's own (``orphan IS true``), so both databases use the partial index.
Index(
    "ix_events_orphan_scans",
    events.c.account_id,
    events.c.create_time,
    sqlite_where=events.c.orphan.is_(true()),
    postgresql_where=events.c.orphan.is_(true()),
)
