"""The operator's commands: ``tradein db``, ``tradein keys`` (API keys), ``tradein webhooks``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import UsageError, _actions, _command, _data_dir, _print_json, _trade_in
from tradein_sdk._domain.tenancy import Role

if TYPE_CHECKING:
    import argparse

    from tradein_sdk._adapters.sql.store import SQLStore


def _db_store(args: argparse.Namespace) -> SQLStore | None:
    """The store of ``--data-dir`` or ``$TRADEIN_DATABASE_URL``; ``None``: ``db status`` and no database."""
    from tradein_sdk._adapters.sql.store import SQLStore  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._app.facade import DATABASE_URL_ENV  # noqa: PLC0415 - loaded by its sub-command only

    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return SQLStore(url, migrate=False)
    database = _data_dir(args) / "tradein.sqlite3"
    if args.db_command == "status" and not database.is_file():
        return None  # schema version 0: nothing to open, and a status creates nothing
    database.parent.mkdir(parents=True, exist_ok=True)
    return SQLStore(f"sqlite:///{database}", migrate=False)


def _db_command(args: argparse.Namespace) -> int:
    from tradein_sdk._adapters.sql.store import iter_migrations  # noqa: PLC0415 - loaded by its sub-command only

    store = _db_store(args)
    try:
        before = 0 if store is None else store.schema_version()
        if store is not None and args.db_command == "migrate":
            after = store.migrate()
            if args.json:
                _print_json({"schema_version": after, "was": before})
            else:
                print(
                    f"schema version {after} (was {before})"
                    if after != before
                    else f"schema version {after}: up to date"
                )
            return 0
        migrations = list(iter_migrations())
        latest = max(version for version, _ in migrations)
        pending = [(version, text) for version, text in migrations if version > before]
        if args.json:
            document = {
                "schema_version": before,
                "latest": latest,
                "pending": [{"version": version, "description": text} for version, text in pending],
            }
            _print_json(document)
            return 0
        print(f"schema version {before} of {latest}" + ("" if pending else ": up to date"))
        for version, text in pending:
            print(f"  pending {version}: {text}")
        return 0
    finally:
        if store is not None:
            store.close()


def _keys_command(args: argparse.Namespace) -> int:
    from datetime import timedelta  # noqa: PLC0415 - loaded by its sub-command only

    trade_in = _trade_in(args, reads=args.keys_command != "create")
    try:
        secret = None
        if args.keys_command == "create":
            record, secret = trade_in.create_api_key(
                tenant=args.tenant, role=args.role, organisation=args.organisation, label=args.label
            )
            records = [record]
        elif args.keys_command == "rotate":
            record, secret = trade_in.rotate_api_key(args.key_id, grace=timedelta(days=args.grace_days))
            records = [record]
        elif args.keys_command == "revoke":
            records = [trade_in.revoke_api_key(args.key_id)]
        else:
            records = trade_in.api_keys(organisation=args.organisation)
        now = trade_in.clock.now()
    finally:
        trade_in.close()
    rows = [
        {
            "key_id": record.key_id,
            "tenant": record.scope.tenant,
            "organisation": record.scope.organisation,
            "role": record.scope.role.value,
            "label": record.label,
            "active": record.active(now),
            "created_at": record.created_at.isoformat(),
            "expires_at": None if record.expires_at is None else record.expires_at.isoformat(),
            "revoked_at": None if record.revoked_at is None else record.revoked_at.isoformat(),
            "last_used_at": None if record.last_used_at is None else record.last_used_at.isoformat(),
        }
        for record in records
    ]
    if args.json:
        _print_json({"keys": rows, **({"key": secret} if secret else {})})
        return 0
    for row in rows:
        state = "active" if row["active"] else ("revoked" if row["revoked_at"] else "expired")
        used = row["last_used_at"] or "never used"
        print(f"{row['key_id']}  {row['tenant']}@{row['organisation']}  {row['role']}  {state}  {used}")
    if secret:
        print(f"key (shown once, keep it secret): {secret}")
    return 0


def _webhooks_dead(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        dead = trade_in.dead_webhooks(limit=args.limit)
    finally:
        trade_in.close()
    if args.json:
        _print_json(
            [
                {
                    "delivery_id": letter.delivery_id,
                    "event_id": letter.event_id,
                    "type": letter.type,
                    "endpoint": letter.endpoint,
                    "created_at": letter.created_at.isoformat(),
                    "attempts": letter.attempts,
                    "last_error": letter.last_error,
                }
                for letter in dead
            ]
        )
        return 0
    for letter in dead:
        error = letter.last_error or ""
        print(f"{letter.delivery_id}  {letter.event_id}  {letter.type}  {letter.endpoint}  {error}")
    return 0


def _webhooks_replay(args: argparse.Namespace) -> int:
    if not (args.ids or args.event or args.all_dead):
        raise UsageError("tradein webhooks replay: give delivery ids, --event EVENT_ID or --all-dead")
    trade_in = _trade_in(args, reads=True)
    try:
        count = trade_in.replay_webhooks(
            delivery_ids=tuple(args.ids), event_ids=tuple(args.event), all_dead=args.all_dead
        )
    finally:
        trade_in.close()
    if args.json:
        _print_json({"queued": count})
        return 0
    print(f"{count} webhook(s) queued again")
    return 0


def _add_operator_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    db = _command(commands, "db", "the database schema: status and migrations")
    actions = _actions(db, "db_command")
    _command(
        actions,
        "status",
        "the schema version, the latest, the migrations pending",
        handler=_db_command,
        json="print JSON",
        data_dir=True,
    )
    _command(
        actions,
        "migrate",
        "apply the pending migrations",
        handler=_db_command,
        json="print JSON",
        data_dir=True,
    )

    keys = _command(
        commands,
        "keys",
        "API keys of the service: create, list, revoke, rotate",
        description=(
            "Each key belongs to a tenant (a shop, a store, a partner) of an organisation and has a role: "
            "shop, store, back_office, provider or admin. The store keeps a key's SHA-256 digest only: "
            "a new key is printed once."
        ),
    )
    actions = _actions(keys, "keys_command")
    create = _command(
        actions,
        "create",
        "mint a key (printed once)",
        handler=_keys_command,
        json="print JSON",
        data_dir=True,
    )
    create.add_argument("--tenant", required=True, help="the shop, store or partner (a-z 0-9 . _ -)")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--organisation", help="the tenant's organisation (default: the tenant)")
    create.add_argument("--label", help="a note: the terminal, the partner system")
    listing = _command(
        actions,
        "list",
        "every key with its scope and last use (never the key)",
        handler=_keys_command,
        json="print JSON",
        data_dir=True,
    )
    listing.add_argument("--organisation", help="only this organisation's keys")
    revoke = _command(
        actions, "revoke", "refuse a key from now on", handler=_keys_command, json="print JSON", data_dir=True
    )
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key's id (key_...)")
    rotate = _command(
        actions,
        "rotate",
        "a successor key; the old one works --grace-days longer",
        handler=_keys_command,
        json="print JSON",
        data_dir=True,
    )
    rotate.add_argument("key_id", metavar="KEY_ID", help="the key's id (key_...)")
    rotate.add_argument("--grace-days", type=float, default=7.0, help="days the old key keeps working")

    webhooks = _command(commands, "webhooks", "webhook dead letters: list and replay")
    actions = _actions(webhooks, "webhooks_command")
    dead = _command(
        actions, "dead", "the deliveries given up", handler=_webhooks_dead, json="print JSON", data_dir=True
    )
    dead.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    replay = _command(
        actions,
        "replay",
        "queue dead deliveries again: by id, by event, or all",
        handler=_webhooks_replay,
        json="print JSON",
        data_dir=True,
    )
    replay.add_argument("ids", nargs="*", metavar="DELIVERY_ID", help="delivery ids to replay")
    replay.add_argument(
        "--event", action="append", default=[], metavar="EVENT_ID", help="replay every delivery of this event"
    )
    replay.add_argument("--all-dead", action="store_true", help="replay every dead letter")
