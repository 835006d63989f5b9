"""Tables, as SQLAlchemy Core metadata shared by SQLite and PostgreSQL.

Times are Unix seconds as floats: cheap to compare, free of time-zone ambiguity, and the API
speaks Unix seconds. Alembic migrations under ``store/migrations`` create these tables; a test
checks that the migrated database matches this metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
    true,
)

from smscloud.domain.call_states import CallState
from smscloud.domain.message_states import MessageState

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# Predicates of the partial indexes. Queries must use these very expressions: a planner uses
# a partial index only when the query's condition matches the index's literally, and a bound
# parameter (``state = ?``) never does, on SQLite or PostgreSQL. The text is the one the
# migrations wrote (``0001_initial``), spelled from the message states.
QUEUED = text(f"state = '{MessageState.QUEUED.value}'")
LEASED = text(f"state = '{MessageState.SENDING.value}'")
IN_FLIGHT = text(f"state = '{MessageState.SUBMITTED.value}'")
HAS_CARRIER_ID = text("carrier_msg_id IS NOT NULL")
# Guards of statements that find their rows by key (id, carrier message id) and only check
# the state: spelled so that no planner takes them for a partial index's predicate. Given
# ``id = ? AND state = 'SENDING'``, PostgreSQL chose ix_messages_leased (small in its
# statistics) over the primary key, and read every entry the index had gathered since the
# last vacuum, hundreds of pages per row (bench/scaling.py, docs/scaling.md).
STILL_SENDING = f"state || '' = '{MessageState.SENDING.value}'"
STILL_SUBMITTED = f"state || '' = '{MessageState.SUBMITTED.value}'"
STILL_CALLBACK_DUE = "callback_state + 0 = 1"
REPORT_PENDING = text("report_state = 1")
REPLY_PENDING = text("pulled = 0")
CALLBACK_DUE = text("callback_state = 1")
IN_TASK = text("task_id IS NOT NULL")
TASK_PENDING = text("state = 0")
TASK_LIVE = text("state IN ('running', 'suspended')")
CALL_QUEUED = text(f"state = '{CallState.QUEUED.value}'")
CALL_LIVE = text(
    f"state IN ('{CallState.CLAIMED.value}', '{CallState.CALLING.value}', "
    f"'{CallState.RINGING.value}', '{CallState.ANSWERED.value}')"
)

# BigInteger primary keys autoincrement on PostgreSQL; on SQLite they must be INTEGER to alias
# the rowid, which ``with_variant`` arranges.
Id = BigInteger().with_variant(Integer(), "sqlite")

tenants = Table(
    "tenants",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("account_type", String(16), nullable=False),  # individual | enterprise
    Column("verified", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False, default="active"),  # active | suspended
    Column("created_at", Float, nullable=False),
    # Alarm when the units left in its packages fall to this (0: no alarm), sent to contacts.
    Column("alarm_threshold", BigInteger, nullable=False, default=0, server_default="0"),
    Column("contact_emails", Text, nullable=False, default="", server_default=""),  # one a line
    Column("contact_phones", Text, nullable=False, default="", server_default=""),  # E.164
    # SMS is activated by the tenant after verification (accounts made by operators start so).
    Column("sms_active", Boolean, nullable=False, default=True, server_default=true()),
)

operators = Table(
    "operators",
    metadata,
    Column("id", Id, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("created_at", Float, nullable=False),
)

tenant_users = Table(
    "tenant_users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("created_at", Float, nullable=False),
)

# Console log-ins: password checks that did not succeed, per key (an account, a client
# address) in its current window; the rules are domain/login_limits.py. A row whose window
# ended counts nothing and may be deleted by anyone.
login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(300), primary_key=True),  # "tenant:<email>", "addr:<ip>"...
    Column("failures", Integer, nullable=False),
    Column("since", Float, nullable=False, index=True),  # the window's start
)

# Signed-in console sessions, one row each. The cookie holds a random token and the row is
# found by its SHA-256, so a copy of this table opens no session. Deleting a row ends that
# session at its next request, in every process.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # hex SHA-256 of the cookie's token
    Column("realm", String(16), nullable=False),  # tenant | operator
    Column("user_id", BigInteger, nullable=False),  # tenant_users.id | operators.id
    Column("created_at", Float, nullable=False, index=True),
    Column("seen_at", Float, nullable=False),  # the last request, to the minute
    Index("ix_console_sessions_realm_user", "realm", "user_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("secret_id", String(64), primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    # Kept in clear: verifying an HMAC needs the key itself, as at any cloud's key service.
    Column("secret_key", String(64), nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    Column("created_at", Float, nullable=False),
)

applications = Table(
    "applications",
    metadata,
    Column("id", Id, primary_key=True),
    Column("sdk_app_id", String(16), nullable=False, unique=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("app_key", String(64), nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    # Frequency policy (Tencent SMS docs: frequency limits); NULL disables a dimension.
    Column("freq_30s", Integer, nullable=True, default=1),
    Column("freq_hour", Integer, nullable=True),  # off by default, as on Tencent
    Column("freq_day", Integer, nullable=True, default=10),
    Column("freq_same_content_day", Integer, nullable=True),
    Column("freq_allowlist", Text, nullable=False, default=""),  # E.164 numbers, one per line
    Column("max_param_length", Integer, nullable=True),
    Column("status_callback_url", Text, nullable=False, default=""),
    Column("reply_callback_url", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    # Messages a natural day (Tencent's days), 0: no limit. Over them: LimitExceeded.App*DailyLimit.
    Column("daily_limit", Integer, nullable=False, default=0, server_default="0"),
    Column("mainland_daily_limit", Integer, nullable=False, default=0, server_default="0"),
    Column("global_daily_limit", Integer, nullable=False, default=0, server_default="0"),
    # Voice (Tencent voice messaging: product rules): status pushes go to their own URL;
    # limits per called number (NULL switches one off) and quiet hours in minutes after
    # local midnight (equal values: none).
    Column("voice_callback_url", Text, nullable=False, default="", server_default=""),
    Column("voice_per_30s", Integer, nullable=True, default=1, server_default="1"),
    Column("voice_per_10min", Integer, nullable=True, default=2, server_default="2"),
    Column("voice_per_day", Integer, nullable=True, default=3, server_default="3"),
    Column("voice_quiet_start", Integer, nullable=False, default=1320, server_default="1320"),
    Column("voice_quiet_end", Integer, nullable=False, default=480, server_default="480"),
)

# Accepted messages per application and natural day: what daily limits are checked against.
app_days = Table(
    "app_days",
    metadata,
    Column("app_id", ForeignKey("applications.id"), primary_key=True),
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD in the platform's time zone
    Column("mainland", BigInteger, nullable=False, default=0),
    Column("intl", BigInteger, nullable=False, default=0),
)

signs = Table(
    "signs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("sign_type", SmallInteger, nullable=False),
    Column("document_type", SmallInteger, nullable=False),
    Column("international", SmallInteger, nullable=False),
    Column("purpose", SmallInteger, nullable=False),
    Column("proof_image", Text, nullable=False, default=""),
    Column("commission_image", Text, nullable=False, default=""),
    Column("remark", Text, nullable=False, default=""),
    Column("qualification_id", BigInteger, nullable=False, default=0),
    # Tencent StatusCode: 0 approved, 1 under review, -1 rejected.
    Column("status", SmallInteger, nullable=False, default=1),
    Column("review_reply", Text, nullable=False, default=""),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("reviewed_at", Float, nullable=True),
    # When it last entered the review queue (applied or modified); NULL: at ``created_at``.
    Column("submitted_at", Float, nullable=True),
)

templates = Table(
    "templates",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("content", Text, nullable=False),
    Column("sms_type", SmallInteger, nullable=False),
    Column("international", SmallInteger, nullable=False),
    Column("remark", Text, nullable=False, default=""),
    Column("status", SmallInteger, nullable=False, default=1),
    Column("review_reply", Text, nullable=False, default=""),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("reviewed_at", Float, nullable=True),
    Column("submitted_at", Float, nullable=True),  # as ``signs.submitted_at``
)

packages = Table(
    "packages",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("used", BigInteger, nullable=False, default=0),
    Column("package_type", SmallInteger, nullable=False, default=1),  # 0 gifted, 1 purchased
    Column("created_at", Float, nullable=False),
    Column("effective_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    # Where it came from: "free:2026-11" (the monthly allowance), "order:12", "" (operator).
    Column("source", String(32), nullable=False, default=""),
    Index(
        "uq_packages_source",
        "tenant_id",
        "source",
        unique=True,
        sqlite_where=text("source != ''"),
        postgresql_where=text("source != ''"),
    ),
)

# The operator's catalogue of prepaid packages, and tenants' orders of them.
package_offers = Table(
    "package_offers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("price", BigInteger, nullable=False),  # micro-yuan; 0: free, granted on order
    Column("validity_days", Integer, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", Float, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    Column("offer_id", ForeignKey("package_offers.id"), nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("state", String(12), nullable=False),  # pending | paid | cancelled
    Column("package_id", ForeignKey("packages.id"), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("paid_at", Float, nullable=True),
)

# Postpaid prices (international SMS per part, voice per started minute), micro-yuan.
prices = Table(
    "prices",
    metadata,
    Column("product", String(16), primary_key=True),
    Column("iso_code", String(2), primary_key=True),
    Column("nation_code", String(4), nullable=False),
    Column("unit_price", BigInteger, nullable=False),
)

# Postpaid usage, metered at acceptance (one row per tenant, country and price per commit);
# a refund is a row with negative quantity and amount.
usage = Table(
    "usage",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False),
    Column("product", String(16), nullable=False),
    Column("iso_code", String(2), nullable=False),
    Column("nation_code", String(4), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_usage_tenant_time", "tenant_id", "created_at"),
)

# Monthly postpaid bills; an unpaid bill past due_at suspends sending until paid.
bills = Table(
    "bills",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False),
    Column("month", String(7), nullable=False),  # YYYY-MM
    Column("total", BigInteger, nullable=False),  # micro-yuan, rounded to the fen
    Column("lines", Text, nullable=False),  # JSON
    Column("issued_at", Float, nullable=False),
    Column("due_at", Float, nullable=False),
    Column("paid_at", Float, nullable=True),
    # When the tenant was told the bill is overdue (the arrears notice), once per bill.
    Column("overdue_noticed_at", Float, nullable=True),
    UniqueConstraint("tenant_id", "month"),
)

# Notifications to send (email, SMS), written in the transaction that decided them.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=True),
    Column("channel", String(8), nullable=False),  # email | sms
    Column("recipients", Text, nullable=False),  # one a line
    Column("subject", Text, nullable=False, default=""),
    Column("body", Text, nullable=False),
    Column("state", SmallInteger, nullable=False, default=0),  # 0 due, 1 sent, 2 given up
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("sent_at", Float, nullable=True),
    Column("error", Text, nullable=False, default=""),
    Index(
        "ix_notifications_due",
        "next_at",
        sqlite_where=text("state = 0"),
        postgresql_where=text("state = 0"),
    ),
)

# A tenant's notification contacts (``domain/notice_contacts.py``): a phone or an email that
# receives the notices of the kinds it chose, once verified by the code it was sent. Only
# the code's salted hash is kept, with its expiry and the wrong attempts so far.
notice_contacts = Table(
    "notice_contacts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False),
    Column("channel", String(8), nullable=False),  # email | sms
    Column("address", String(254), nullable=False),  # lower-case email, or E.164
    Column("kinds", String(64), nullable=False, default=""),  # space-separated notice kinds
    Column("verified_at", Float, nullable=True),
    Column("code_hash", String(64), nullable=False, default=""),
    Column("code_salt", String(32), nullable=False, default=""),
    Column("code_expires_at", Float, nullable=False, default=0.0),
    Column("code_attempts", SmallInteger, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("tenant_id", "channel", "address"),
)

# The console's messages (站内信): one row per notice to a tenant, written where the notice
# is decided; email and SMS are extra channels. The words are the console's, in the page's
# language, from ``kind`` and its JSON ``params``.
console_messages = Table(
    "console_messages",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # one of NOTICE_KINDS
    Column("params", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("read_at", Float, nullable=True),
    # The header counts a tenant's unread messages on every page; the list reads newest first.
    Index("ix_console_messages_tenant", "tenant_id", "read_at"),
)

# Every movement of units or money, signed: a grant adds units to a package, a debit (at
# acceptance, one row per package per commit) takes them, a refund gives them back, a
# package_refund removes what an operator refunded. Balances follow from it; ``billing
# check`` proves packages, messages and ledger agree.
ledger = Table(
    "ledger",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("package_id", ForeignKey("packages.id"), nullable=True, index=True),
    Column("units", BigInteger, nullable=False, default=0),
    Column("amount", BigInteger, nullable=False, default=0),  # micro-yuan
    Column("note", String(64), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
)

# ``state`` is a ``domain.message_states.MessageState``: the life cycle and its transitions are
# the table there.
messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True),
    Column("serial_no", String(48), nullable=False),
    Column("request_id", String(40), nullable=False),
    Column("tenant_id", BigInteger, nullable=False),
    Column("app_id", BigInteger, nullable=False),
    Column("phone", String(24), nullable=False),  # E.164
    Column("nation_code", String(8), nullable=False),
    Column("iso_code", String(8), nullable=False),
    Column("international", Boolean, nullable=False),
    Column("sign_name", String(64), nullable=False),
    Column("template_id", BigInteger, nullable=False),
    Column("sms_type", SmallInteger, nullable=False),
    Column("content", Text, nullable=False),  # the final text: 【sign】 + rendered template
    Column("content_key", String(16), nullable=False),  # hash for "same content" limits
    Column("parts", Integer, nullable=False),  # billed parts (Fee)
    Column("debits", String(64), nullable=False, default=""),  # "pkg:units,pkg:units"
    Column("refunded", Boolean, nullable=False, default=False),
    Column("session_context", Text, nullable=False, default=""),
    Column("extend_code", String(16), nullable=False, default=""),
    Column("sender_id", String(32), nullable=False, default=""),
    Column("state", String(12), nullable=False),
    Column("request_code", String(96), nullable=False, default="Ok"),
    Column("created_at", Float, nullable=False),
    Column("lease_until", Float, nullable=True),
    Column("attempts", SmallInteger, nullable=False, default=0),
    Column("carrier", String(32), nullable=False, default=""),
    Column("carrier_msg_id", String(64), nullable=True),
    # How many parts the carrier took it as; above 1 the parts and their receipts live in
    # message_parts, and carrier_msg_id (the first part's) does not finish the message alone.
    Column("wire_parts", SmallInteger, nullable=False, default=1, server_default=text("1")),
    Column("submitted_at", Float, nullable=True),
    Column("done_at", Float, nullable=True),
    Column("receipt_code", String(32), nullable=False, default=""),  # e.g. DELIVRD
    Column("receive_time", Float, nullable=True),  # when the handset got it
    # 0 none, 1 final and waiting for PullSmsSendStatus, 2 pulled.
    Column("report_state", SmallInteger, nullable=False, default=0),
    # Push to the application's callback URL: 0 none, 1 due, 2 pushed, 3 given up.
    Column("callback_state", SmallInteger, nullable=False, default=0, server_default=text("0")),
    Column("callback_attempts", SmallInteger, nullable=False, default=0, server_default=text("0")),
    Column("callback_next_at", Float, nullable=True),
    Column("task_id", BigInteger, nullable=True),  # the bulk task that sent it, if any
    UniqueConstraint("serial_no"),
    # (phone, app) serves both frequency checks (app = ? AND phone IN ...) and reply matching.
    Index("ix_messages_phone_app_time", "phone", "app_id", "created_at"),
    Index("ix_messages_tenant_time", "tenant_id", "created_at"),
    # A message has a carrier id once submitted: the accepted ones stay out of the index
    # (an entry each would cost every acceptance and serve no receipt lookup).
    Index(
        "ix_messages_carrier_id",
        "carrier",
        "carrier_msg_id",
        sqlite_where=HAS_CARRIER_ID,
        postgresql_where=HAS_CARRIER_ID,
    ),
    # Partial indexes keep the dispatcher's claims cheap however large the history grows.
    Index(
        "ix_messages_queued",
        "id",
        sqlite_where=QUEUED,
        postgresql_where=QUEUED,
    ),
    Index(
        "ix_messages_leased",
        "lease_until",
        sqlite_where=LEASED,
        postgresql_where=LEASED,
    ),
    Index(
        "ix_messages_in_flight",
        "submitted_at",
        sqlite_where=IN_FLIGHT,
        postgresql_where=IN_FLIGHT,
    ),
    Index(
        "ix_messages_callback_due",
        "callback_next_at",
        sqlite_where=CALLBACK_DUE,
        postgresql_where=CALLBACK_DUE,
    ),
    # Suspending a task holds its queued messages, counting its progress reads its states.
    Index(
        "ix_messages_task_state",
        "task_id",
        "state",
        sqlite_where=IN_TASK,
        postgresql_where=IN_TASK,
    ),
    Index(
        "ix_messages_report_pending",
        "app_id",
        "id",
        sqlite_where=REPORT_PENDING,
        postgresql_where=REPORT_PENDING,
    ),
)

# Bulk send tasks from the console: an uploaded recipient list, checked and rendered when
# uploaded (a draft until confirmed), then fed to ACCEPT at the task's rate by the workers.
# state: uploading | draft | running | suspended | cancelled | finished. A running task
# whose start_at is ahead is "scheduled"; hold_reason says why the platform suspended it.
send_tasks = Table(
    "send_tasks",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    Column("app_id", ForeignKey("applications.id"), nullable=False),
    Column("name", String(128), nullable=False),  # the uploaded file's name
    Column("sign_name", String(64), nullable=False),
    Column("template_id", BigInteger, nullable=False),
    Column("sms_type", SmallInteger, nullable=False),
    Column("international", Boolean, nullable=False),
    Column("state", String(12), nullable=False),
    Column("hold_reason", String(32), nullable=False, default=""),
    Column("rate", Integer, nullable=False),  # numbers fed a second
    Column("start_at", Float, nullable=False),
    # The feeding clock: the task may feed rate x (now - fed_at) numbers now.
    Column("fed_at", Float, nullable=False),
    Column("numbers", Integer, nullable=False),  # valid numbers, to send
    Column("parts", BigInteger, nullable=False),  # their billed parts, as uploaded
    Column("created_at", Float, nullable=False),
    Column("confirmed_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Index(
        "ix_send_tasks_live",
        "start_at",
        sqlite_where=TASK_LIVE,
        postgresql_where=TASK_LIVE,
    ),
)

# The rows of a task's recipient list. state: 0 waiting, 1 accepted, 2 refused at acceptance,
# 3 invalid in the file, 4 duplicate in the file, 5 cancelled before it was sent.
task_numbers = Table(
    "task_numbers",
    metadata,
    Column("task_id", BigInteger, primary_key=True),
    Column("seq", Integer, primary_key=True),  # order in the file
    Column("line", Integer, nullable=False),  # the file's row number, for the tenant
    Column("raw", String(64), nullable=False),  # the number as written
    Column("phone", String(24), nullable=False),  # E.164 when valid
    Column("nation_code", String(8), nullable=False),
    Column("iso_code", String(8), nullable=False),
    Column("content", Text, nullable=False),  # the final text, rendered at upload
    Column("parts", Integer, nullable=False),
    Column("state", SmallInteger, nullable=False),
    Column("code", String(96), nullable=False, default=""),  # why it was not sent
    Column("serial_no", String(48), nullable=False, default=""),
    Index(
        "ix_task_numbers_waiting",
        "task_id",
        "seq",
        sqlite_where=TASK_PENDING,
        postgresql_where=TASK_PENDING,
    ),
)

# The parts of messages that went to the carrier as several (long messages), each with its own
# carrier id and receipt.
message_parts = Table(
    "message_parts",
    metadata,
    Column("carrier", String(32), primary_key=True),
    Column("carrier_msg_id", String(64), primary_key=True),
    Column("message_id", BigInteger, nullable=False, index=True),
    Column("part_no", SmallInteger, nullable=False),
    Column("state", String(12), nullable=True),  # NULL until its receipt comes
    Column("receipt_code", String(32), nullable=False, default=""),
    Column("done_at", Float, nullable=True),
)

replies = Table(
    "replies",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", BigInteger, nullable=False),
    Column("app_id", BigInteger, nullable=False),
    Column("phone", String(24), nullable=False),
    Column("nation_code", String(8), nullable=False),
    Column("sign_name", String(64), nullable=False, default=""),
    Column("extend_code", String(16), nullable=False, default=""),
    Column("content", Text, nullable=False),
    Column("reply_time", Float, nullable=False),
    Column("pulled", SmallInteger, nullable=False, default=0),  # 0/1, to match its index
    # Push to the application's callback URL: 0 none, 1 due, 2 pushed, 3 given up.
    Column("callback_state", SmallInteger, nullable=False, default=0, server_default=text("0")),
    Column("callback_attempts", SmallInteger, nullable=False, default=0, server_default=text("0")),
    Column("callback_next_at", Float, nullable=True),
    Index("ix_replies_app_phone_time", "app_id", "phone", "reply_time"),
    Index(
        "ix_replies_callback_due",
        "callback_next_at",
        sqlite_where=CALLBACK_DUE,
        postgresql_where=CALLBACK_DUE,
    ),
    Index(
        "ix_replies_pending",
        "app_id",
        "id",
        sqlite_where=REPLY_PENDING,
        postgresql_where=REPLY_PENDING,
    ),
)

# Replies that matched no message sent: from a number no tenant has written to, or from an
# address that is no phone number (a short code, a name). Kept for the operator to see.
unmatched_replies = Table(
    "unmatched_replies",
    metadata,
    Column("id", Id, primary_key=True),
    Column("carrier", String(32), nullable=False, default=""),
    Column("phone", String(24), nullable=False),  # E.164 as read, or the address as written
    Column("destination", String(24), nullable=False, default=""),
    Column("content", Text, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("stored_at", Float, nullable=False),
    Index("ix_unmatched_replies_received_at", "received_at"),
)

# Counters of the delivery path that /metrics reports for all workers together, kept in the
# transactions that do what they count (such as a long message's part re-sent).
delivery_counters = Table(
    "delivery_counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False, default=0),
)

# Receipts that named no known message yet (a receipt can overtake the record of its own
# submission, or arrive for a message another worker is still recording). Kept here, in the
# same transaction that failed to match them, and matched again until they expire.
orphan_receipts = Table(
    "orphan_receipts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("carrier", String(32), nullable=False),
    Column("carrier_msg_id", String(64), nullable=False),
    Column("state", String(12), nullable=False),
    Column("receipt_code", String(32), nullable=False),
    Column("done_at", Float, nullable=False),
    Column("first_seen", Float, nullable=False),
)

# What each delivery worker last saw of each carrier, for /metrics in any process.
carrier_health = Table(
    "carrier_health",
    metadata,
    Column("carrier", String(32), primary_key=True),
    Column("worker", String(64), primary_key=True),  # host:pid
    Column("updated_at", Float, nullable=False),
    Column("binds", Integer, nullable=False, default=0),
    Column("bound", Integer, nullable=False, default=0),
    Column("window_in_use", Integer, nullable=False, default=0),
    Column("window_size", Integer, nullable=False, default=0),
    Column("submits_per_s", Float, nullable=False, default=0.0),
    Column("reconnects", Integer, nullable=False, default=0),
    Column("errors", Text, nullable=False, default="{}"),  # JSON: kind -> count
)

# Bind slots of SMPP carriers, leased by delivery workers so no slot is bound twice
# (a carrier's ``binds`` setting is how many slots it has across all workers).
carrier_slots = Table(
    "carrier_slots",
    metadata,
    Column("carrier", String(32), primary_key=True),
    Column("slot", Integer, primary_key=True),
    Column("holder", String(64), nullable=False, default=""),  # host:pid, "" when free
    Column("lease_until", Float, nullable=False, default=0.0),
)

# Carriers the operator connected (besides the built-in sandbox) and the routes to them.
carriers = Table(
    "carriers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(32), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # smpp | sandbox
    Column("settings", Text, nullable=False, default="{}"),  # JSON, per kind
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", Float, nullable=False),
)

routes = Table(
    "routes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("nation_code", String(8), nullable=False, default=""),  # "" = any country
    Column("prefix", String(16), nullable=False, default=""),  # of the national number
    Column("sms_type", SmallInteger, nullable=True),  # NULL = any type
    Column("carriers", Text, nullable=False),  # "name:weight,name:weight"
    Column("priority", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
)

# Numbers that asked a tenant to stop marketing messages (a reply such as "TD" or "退订").
opt_outs = Table(
    "opt_outs",
    metadata,
    Column("tenant_id", BigInteger, primary_key=True),
    Column("phone", String(24), primary_key=True),
    Column("keyword", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
)

conversions = Table(
    "conversions",
    metadata,
    Column("serial_no", String(48), primary_key=True),
    Column("app_id", BigInteger, nullable=False),
    Column("conversion_time", Float, nullable=False),
)

# Identity verification (实名认证) applications: a person's ID card or a company's licence,
# reviewed by an operator. An approved one verifies the tenant as its account type.
identities = Table(
    "identities",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    Column("account_type", String(16), nullable=False),  # individual | enterprise
    Column("name", String(128), nullable=False),  # the person or the company
    Column("id_number", String(18), nullable=False),  # ID card no. | unified social credit code
    Column("document", String(64), nullable=False),  # file name under uploads/identity
    Column("status", SmallInteger, nullable=False, default=1),  # 1 pending, 0 approved, 2 rejected
    Column("reason", Text, nullable=False, default=""),  # the reviewer's, when rejected
    Column("created_at", Float, nullable=False),
    Column("reviewed_at", Float, nullable=True),
)

# What operators did in the console (suspensions, carriers, routes...), newest read first.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True),
    Column("operator", String(64), nullable=False),  # the operator's username
    Column("action", String(64), nullable=False),
    Column("target", String(128), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False, index=True),
)


# Voice templates (Tencent voice messaging: SendTtsVoice's TemplateId; the legacy sendtvoice's
# tpl_id), reviewed by operators as SMS templates are. status: 0 approved, 1 under review,
# -1 rejected.
voice_templates = Table(
    "voice_templates",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("content", Text, nullable=False),
    Column("remark", Text, nullable=False, default=""),
    Column("status", SmallInteger, nullable=False, default=1),
    Column("review_reply", Text, nullable=False, default=""),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("reviewed_at", Float, nullable=True),
)

# Uploaded recordings for the legacy sendfvoice (uploadvoicefile): the bytes live in the data
# directory under their SHA-1 (the fid), checked to be MP3 or WAV; reviewed like templates.
voice_files = Table(
    "voice_files",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    Column("fid", String(64), nullable=False),
    Column("media_type", String(16), nullable=False),  # mp3 | wav
    Column("size", Integer, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("status", SmallInteger, nullable=False, default=1),
    Column("review_reply", Text, nullable=False, default=""),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("reviewed_at", Float, nullable=True),
    UniqueConstraint("tenant_id", "fid"),
)

# Voice messages, one call each; their life cycle is domain/call_states.py. What is spoken is
# kept as text (a code, a rendered template) or a file id, rendered to audio when dialled.
voice_calls = Table(
    "voice_calls",
    metadata,
    Column("id", Id, primary_key=True),
    Column("call_id", String(40), nullable=False),
    Column("request_id", String(40), nullable=False),
    Column("tenant_id", BigInteger, nullable=False),
    Column("app_id", BigInteger, nullable=False),
    Column("phone", String(24), nullable=False),  # E.164
    Column("nation_code", String(8), nullable=False),
    Column("iso_code", String(8), nullable=False),
    Column("kind", String(12), nullable=False),  # domain.voice_rules.VoiceKind
    Column("template_id", BigInteger, nullable=True),
    Column("file_id", BigInteger, nullable=True),
    Column("text", Text, nullable=False, default=""),
    Column("play_times", SmallInteger, nullable=False),
    Column("session_context", Text, nullable=False, default=""),
    Column("source", String(8), nullable=False),  # vms | v5 | console
    Column("state", String(12), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("lease_until", Float, nullable=True),
    Column("attempts", SmallInteger, nullable=False, default=0),
    Column("carrier", String(32), nullable=False, default=""),
    Column("dialled_at", Float, nullable=True),
    Column("ringing_at", Float, nullable=True),
    Column("answered_at", Float, nullable=True),
    Column("ended_at", Float, nullable=True),
    Column("sip_status", Integer, nullable=False, default=0),
    Column("failure_code", SmallInteger, nullable=False, default=0),
    Column("hung_up_by", String(8), nullable=False, default=""),
    Column("keys", String(64), nullable=False, default=""),
    Column("fee_minutes", Integer, nullable=False, default=0),
    Column("unit_price", BigInteger, nullable=False, default=0),  # micro-yuan per minute
    Column("recording", Text, nullable=False, default=""),  # the simulator's WAV, if kept
    UniqueConstraint("call_id"),
    Index("ix_voice_calls_phone_app_time", "phone", "app_id", "created_at"),
    Index("ix_voice_calls_tenant_time", "tenant_id", "created_at"),
    Index("ix_voice_calls_queued", "id", sqlite_where=CALL_QUEUED, postgresql_where=CALL_QUEUED),
    Index("ix_voice_calls_live", "lease_until", sqlite_where=CALL_LIVE, postgresql_where=CALL_LIVE),
)

# Voice callbacks waiting to be pushed, one row per body: a call may need several (a key
# press during the call; its status and, when it failed, its failure reason at its end;
# Tencent voice messaging: callback API). The body is built when the row is written, so a
# push sends what was true then. callback_state: 1 due, 2 pushed, 3 given up.
voice_pushes = Table(
    "voice_pushes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("call_row", ForeignKey("voice_calls.id"), nullable=False, index=True),
    Column("app_id", BigInteger, nullable=False),
    Column("body", Text, nullable=False),  # JSON, one wrapper key (voicecode_callback...)
    Column("created_at", Float, nullable=False),
    Column("callback_state", SmallInteger, nullable=False, default=1),
    Column("callback_attempts", SmallInteger, nullable=False, default=0),
    Column("callback_next_at", Float, nullable=True),
    Index(
        "ix_voice_pushes_callback_due",
        "callback_next_at",
        sqlite_where=CALLBACK_DUE,
        postgresql_where=CALLBACK_DUE,
    ),
)
