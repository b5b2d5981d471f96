"""``tradein quote``: issue, verify, show and redeem instant quotes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import (
    VERIFICATIONS,
    _actions,
    _command,
    _locale,
    _print_json,
    _quote_keys,
    _read_json_file,
    _trade_in,
)

if TYPE_CHECKING:
    import argparse

    from tradein_sdk._domain.quotes import Quote


def _quote_create(args: argparse.Namespace) -> int:
    from tradein_sdk._domain.quotes import Channel  # noqa: PLC0415 - loaded by its sub-command only

    answers = _read_json_file(args.answers, "answers")
    diagnostics = _read_json_file(args.diagnostics, "diagnostics") if args.diagnostics else None
    trade_in = _trade_in(args)
    try:
        issued = trade_in.quote(
            args.device_id,
            answers,
            market=args.market,
            locale=_locale(args),
            imei=args.imei,
            channel=Channel(args.channel),
            verification=args.verification,
            diagnostics=diagnostics,
            audience=args.audience,
        )
    finally:
        trade_in.close()
    if args.json:
        _print_json({"quote": issued.quote.to_json(), "token": issued.token})
        return 0
    _print_quote(issued.quote)
    print(f"token: {issued.token}")
    return 0


def _print_quote(quote: Quote) -> None:
    """The quote's lines as issued, in its locale; the command's own words are English, times in UTC."""
    from datetime import UTC  # noqa: PLC0415 - loaded by its sub-command only

    expires = quote.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"quote {quote.id} ({quote.kind.value}, {quote.locale}, valid until {expires})")
    grade = quote.pricing_grade or "recycling only"
    print(f"{quote.device.display_name} · {quote.device.storage_gb} GB · {grade}")
    width = max([len(line.text) for line in quote.lines] + [len("total")])
    for line in quote.lines:
        print(f"  {line.text:<{width}}  {line.amount.format(quote.locale):>14}")
    print(f"  {'total':<{width}}  {quote.amount.format(quote.locale):>14}")


def _quote_verify(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True, key_ring=_quote_keys(args))  # the keys are checked first
    try:
        claims = trade_in.verify_token(args.token, audience=args.audience)
    finally:
        trade_in.close()
    data = {
        "quote_id": claims.quote_id,
        "amount": claims.amount.to_json(),
        "audience": claims.audience,
        "issued_at": claims.issued_at.isoformat(),
        "expires_at": claims.expires_at.isoformat(),
        "key_id": claims.key_id,
    }
    if args.json:
        _print_json(data)
    else:
        print(
            f"valid: quote {claims.quote_id}, {claims.amount}, for {claims.audience}, "
            f"until {claims.expires_at.isoformat()} (key {claims.key_id})"
        )
    return 0


def _quote_show(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        stored = trade_in.get_quote(args.quote_id)
    finally:
        trade_in.close()
    if args.json:
        redemption = stored.redemption
        _print_json(
            {
                "quote": stored.quote.to_json(),
                "redemption": None if redemption is None else _redemption_json(redemption),
            }
        )
        return 0
    _print_quote(stored.quote)
    if stored.redemption is not None:
        reference = stored.redemption.reference or "no reference"
        print(f"redeemed {stored.redemption.redeemed_at.isoformat()} ({reference})")
    return 0


def _redemption_json(redemption: Any) -> dict[str, Any]:  # noqa: ANN401 - a Redemption
    return {
        "quote_id": redemption.quote_id,
        "redemption_id": redemption.redemption_id,
        "amount": redemption.amount.to_json(),
        "reference": redemption.reference,
        "redeemed_at": redemption.redeemed_at.isoformat(),
    }


def _quote_redeem(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True, key_ring=_quote_keys(args))
    try:
        redemption = trade_in.redeem(args.token, reference=args.reference, audience=args.audience)
    finally:
        trade_in.close()
    if args.json:
        _print_json(_redemption_json(redemption))
        return 0
    print(f"redeemed quote {redemption.quote_id}: {redemption.amount} ({redemption.redemption_id})")
    return 0


def _add_quote_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    quote = _command(
        commands,
        "quote",
        "issue, verify, show and redeem instant quotes",
        description=(
            "Instant quotes: create one for a device variant from questionnaire answers (a signed token "
            "comes with it), verify a token offline, show a stored quote, redeem a token once."
        ),
    )
    actions = _actions(quote, "quote_command")
    create = _command(
        actions,
        "create",
        "issue a quote for a device variant from questionnaire answers",
        handler=_quote_create,
        description=(
            "Grade, price, sign and store a quote. DEVICE_ID is a storage variant "
            "(apple-iphone-13-128gb); `tradein catalog show MODEL_ID` lists a model's variants."
        ),
        json="print JSON: the quote (schemas/quote.schema.json) and its token",
        data_dir=True,
        locale="the quote's texts and amounts",
    )
    create.add_argument("device_id", metavar="DEVICE_ID", help="the catalog variant id")
    create.add_argument("--answers", required=True, metavar="FILE", help="the questionnaire answers (JSON)")
    create.add_argument("--imei", help="the device's IMEI (needed for a guaranteed quote)")
    create.add_argument("--market", default=None, help="the market to price in (default DE)")
    create.add_argument("--channel", default="online", choices=["online", "store"])
    create.add_argument("--verification", default="self_declared", choices=VERIFICATIONS)
    create.add_argument("--diagnostics", metavar="FILE", help="automated test results, merged in as measured")
    create.add_argument("--audience", default=None, help="the shop or store the quote is for")

    verify = _command(
        actions,
        "verify",
        "verify a quote token offline: signature, key, audience, expiry",
        handler=_quote_verify,
        description=(
            "Verify a token with the quote keys of --data-dir (or $TRADEIN_QUOTE_KEYS). Never creates a key: "
            "without one, it says where it looked."
        ),
        json="print JSON",
        data_dir=True,
    )
    verify.add_argument("token", metavar="TOKEN")
    verify.add_argument("--audience", default=None, help="the shop or store verifying")

    show = _command(
        actions,
        "show",
        "show a stored quote and its redemption",
        handler=_quote_show,
        description="Show a stored quote as it was issued (in its locale) and its redemption, if any.",
        json="print JSON",
        data_dir=True,
    )
    show.add_argument("quote_id", metavar="QUOTE_ID")

    redeem = _command(
        actions,
        "redeem",
        "redeem the quote a token names, once",
        handler=_quote_redeem,
        json="print JSON",
        data_dir=True,
    )
    redeem.add_argument("token", metavar="TOKEN")
    redeem.add_argument("--reference", default=None, help="the shop's reference for the redemption")
    redeem.add_argument("--audience", default=None, help="the shop or store redeeming")
