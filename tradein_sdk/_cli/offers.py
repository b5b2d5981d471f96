"""``tradein offers``: device protection offers for a new device."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import _add_catalog_options, _catalog, _command, _day, _locale, _print_json

if TYPE_CHECKING:
    import argparse


def _offers_command(args: argparse.Namespace) -> int:
    from datetime import date  # noqa: PLC0415 - loaded by its sub-command only

    from tradein_sdk._domain.insurance import PlanCatalogOfferSource, PurchaseCondition  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.money import Money  # noqa: PLC0415 - loaded by its sub-command only

    entry = _catalog(args).lookup(args.device_id)
    source = PlanCatalogOfferSource.from_file(args.plans) if args.plans else PlanCatalogOfferSource.example()
    today = args.date or date.today()  # noqa: DTZ011 - a CLI default
    offers = source.offers(
        category=entry.model.category,
        device_price=Money(args.price, args.currency),
        condition=PurchaseCondition(args.condition),
        country=args.market,
        purchased_on=today,
        today=today,
        with_trade_in=args.with_trade_in,
    )
    if args.json:
        _print_json(
            [
                {
                    "offer_id": offer.offer_id,
                    "plan_id": offer.plan_id,
                    "coverage": offer.coverage.value,
                    "term": offer.term.value,
                    "premium": {
                        key: getattr(offer.premium, key).to_json() for key in ("gross", "net", "tax")
                    },
                    "bundle_discount": offer.bundle_discount.to_json(),
                    "monthly_amount": offer.monthly_amount.to_json() if offer.monthly_amount else None,
                    "first_year": offer.first_year.gross.to_json(),
                    "annual_premium": offer.annual_premium.to_json(),
                    "exceeds_ancillary_exemption": offer.exceeds_ancillary_exemption,
                    "ipid_url": offer.ipid_url,
                    "terms_version": offer.terms_version,
                    "texts": list(offer.disclosures(_locale(args))),
                }
                for offer in offers
            ]
        )
        return 0
    if not offers:
        print(f"no protection plan fits {entry.model.display_name} at {args.price} {args.currency}")
    for offer in offers:
        print(f"{offer.offer_id}: {offer.premium.gross.format(_locale(args))}")
        for text in offer.disclosures(_locale(args)):
            print(f"  {text}")
    return 0


def _add_offers_command(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    offers = _command(
        commands,
        "offers",
        "device protection offers for a new device",
        handler=_offers_command,
        json="print JSON",
        locale="the offers' texts and amounts",
    )
    offers.add_argument("device_id", metavar="DEVICE_ID", help="the new device's catalog id")
    offers.add_argument("--price", required=True, help="the new device's price, e.g. 999")
    offers.add_argument("--currency", default="EUR")
    offers.add_argument("--market", default="DE", help="the customer's country (default DE)")
    offers.add_argument("--condition", default="new", choices=["new", "refurbished"])
    offers.add_argument("--with-trade-in", action="store_true", help="a trade-in is in the same checkout")
    offers.add_argument("--date", type=_day, metavar="YYYY-MM-DD", help="the purchase date (default today)")
    offers.add_argument("--plans", metavar="FILE", help="a plan catalog instead of the bundled example")
    _add_catalog_options(offers)
