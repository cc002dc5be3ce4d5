"""`commonground opt-out add|remove|list`: the accounts never ranked, shown, exported or reported."""

from __future__ import annotations

import argparse
from typing import Any

from warehouse import opt_outs
from warehouse.settings import Settings
from warehouse.store import Warehouse

AFTER = (
    "It takes effect at the next `commonground analyze` and `commonground publish` "
    "(or `commonground run`, or the schedule); weekly reports built from then on leave it out."
)


def add_opt_out_parser(sub: Any) -> None:
    """Register `opt-out` with its three actions on the CLI's subparsers."""
    parser = sub.add_parser(
        "opt-out", help="keep accounts out of rankings, the dashboard, exports and reports"
    )
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="put an account on the opt-out list")
    add.add_argument("who", metavar="HANDLE_OR_ACCOUNT_ID", help="@handle or platform:id")
    add.add_argument("--note", default="", help="why, or who asked (kept with the entry)")
    remove = actions.add_parser("remove", help="take an account off the opt-out list")
    remove.add_argument("who", metavar="HANDLE_OR_ACCOUNT_ID", help="@handle or platform:id")
    actions.add_parser("list", help="show the opt-out list")
    parser.set_defaults(func=cmd_opt_out)


def cmd_opt_out(args: argparse.Namespace, settings: Settings) -> int:
    warehouse = Warehouse(settings.database_path, store_raw=settings.store_raw_payloads)
    warehouse.init()
    if args.action == "list":
        return _print_list(warehouse)
    if args.action == "add":
        found = opt_outs.add(warehouse, args.who, args.note)  # an OptOutError is main's one-line error
        unknown = "" if found.known else " (not in the warehouse yet: kept out when it is collected)"
        print(f"{found.account_id} is on the opt-out list{unknown}. {AFTER}")
        return 0
    removed = opt_outs.remove(warehouse, args.who)
    if removed is None:
        print(f"{args.who} is not on the opt-out list; `commonground opt-out list` shows who is.")
        return 1
    print(f"{removed} is off the opt-out list. {AFTER}")
    return 0


def _print_list(warehouse: Warehouse) -> int:
    rows = opt_outs.listed(warehouse)
    if rows.empty:
        print("The opt-out list is empty.")
        return 0
    print(f"{len(rows)} account(s) on the opt-out list:")
    for row in rows.itertuples():
        handle = f" @{row.handle}" if isinstance(row.handle, str) and row.handle else ""
        note = f" — {row.note}" if isinstance(row.note, str) and row.note else ""
        print(f"  {row.account_id}{handle} (added {row.added_at:%Y-%m-%d %H:%M} UTC){note}")
    return 0
