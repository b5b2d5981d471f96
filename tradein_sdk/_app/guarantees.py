"""The forward trade-in use cases of :class:`~tradein_sdk.TradeIn`: offer, sell, read, exercise, liability.

A guarantee is sold with a new device: the offer is computed again here from the plan, the device and its
price (never taken from the caller), signed and stored with an audit entry of the terms accepted. Exercising
it records the decision once, by a conditional update in the store. The liability view reads the outstanding
contracts in batches, without their envelopes.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradein_sdk._domain.identifiers import checked_text
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.tenancy import acting_actor
from tradein_sdk._errors import ConfigurationError, GuaranteeError
from tradein_sdk._ports import AuditFact, GuaranteeRecord, GuaranteeStore

if TYPE_CHECKING:
    from tradein_sdk._domain.catalog import Catalog
    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.guarantees import (
        Exercise,
        GuaranteeContract,
        GuaranteeOffer,
        GuaranteePlans,
        Liability,
        OutstandingGuarantee,
        ResidualCurve,
    )
    from tradein_sdk._domain.signing import SigningKeys
    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._ports import _Port


class GuaranteeUseCases:
    """The forward trade-in methods of :class:`~tradein_sdk.TradeIn` (mixed into it)."""

    clock: Clock
    catalog: Catalog
    audience: str
    organisation: str
    scope: Scope | None
    signing_keys: SigningKeys | None
    _guarantee_plans: GuaranteePlans | None

    if TYPE_CHECKING:

        @property
        def _in_scope(self) -> dict[str, Any]: ...
        def _port(self, port: type[_Port]) -> _Port: ...

    @property
    def guarantee_plans(self) -> GuaranteePlans:
        """The buy-back guarantee plans offered (the bundled examples unless the facade was given others)."""
        from tradein_sdk._domain.guarantees import example_guarantee_plans  # noqa: PLC0415 - loads with the first call

        if self._guarantee_plans is None:
            self._guarantee_plans = example_guarantee_plans()
        return self._guarantee_plans

    def offer_guarantees(
        self,
        device_id: str,
        price: Money,
        *,
        purchased_on: dt.date | None = None,
        channel: str = "online",
        customer_case: str = "consumer",
        financed_amount: Money | None = None,
    ) -> tuple[GuaranteeOffer, ...]:
        """The guarantees a device being bought may have, each explained band by band.

        Args:
            device_id: the catalog variant (or model) being bought.
            price: its purchase price.
            purchased_on: the day of the purchase (default: today).
            channel: ``online`` or ``store``.
            customer_case: ``consumer`` or ``business``.
            financed_amount: the financed amount, for the carrier's upgrade plans.

        Raises:
            DeviceNotFoundError: the catalog has no such device.
            GuaranteeError: the price is in another currency than the plans.
        """
        from tradein_sdk._domain.guarantees import guarantee_offers  # noqa: PLC0415 - loads with the first call

        model = self.catalog.lookup(device_id).model
        return guarantee_offers(
            self.guarantee_plans,
            category=model.category.value,
            price=price,
            purchased_on=purchased_on or self.clock.now().date(),
            channel=channel,
            customer_case=customer_case,
            financed_amount=financed_amount,
        )

    def sell_guarantee(
        self,
        plan_id: str,
        device_id: str,
        price: Money,
        *,
        purchased_on: dt.date | None = None,
        imei: str | None = None,
        channel: str = "online",
        customer_case: str = "consumer",
        financed_amount: Money | None = None,
        customer_ref: str | None = None,
        cost_centre: str | None = None,
    ) -> dict[str, Any]:
        """Sell a guarantee with a device (the customer accepted the plan's terms); the signed contract.

        The offer is computed again from the plan, the device and the price; the contract (id, device, price,
        schedule in money and dates, floor, window, terms version) is signed (Ed25519, purpose
        ``buyback-guarantee``) and stored, with an audit entry naming the terms accepted.

        Raises:
            GuaranteeError: the plan does not exist or does not cover this purchase (``not_eligible``).
            ConfigurationError: the facade has no signing keys.
        """
        from tradein_sdk._domain.guarantees import CONTRACT_PURPOSE, contract_document, sell  # noqa: PLC0415 - loads with the first call
        from tradein_sdk._domain.signing import sign_document  # noqa: PLC0415 - cryptography loads with it

        if self.signing_keys is None:
            raise ConfigurationError("a guarantee contract is signed: give the facade signing_keys")
        purchased_on = purchased_on or self.clock.now().date()
        offers = self.offer_guarantees(
            device_id,
            price,
            purchased_on=purchased_on,
            channel=channel,
            customer_case=customer_case,
            financed_amount=financed_amount,
        )
        offer = next((offer for offer in offers if offer.plan_id == plan_id), None)
        if offer is None:
            self.guarantee_plans.plan(plan_id)  # an unknown plan is named as such
            raise GuaranteeError(
                "plan {plan} does not cover this purchase", rule="not_eligible", plan=plan_id
            )
        if customer_ref is not None:
            checked_text(customer_ref, field="customer_ref", maximum=64)
        now = self.clock.now()
        contract = sell(
            offer,
            contract_id=f"gtc_{uuid.uuid4().hex[:24]}",
            device=device_id,
            imei=imei,
            purchased_on=purchased_on,
            sold_at=now,
        )
        envelope = sign_document(contract_document(contract), self.signing_keys, purpose=CONTRACT_PURPOSE)
        self._port(GuaranteeStore).add_guarantee(
            _record(
                contract,
                json.dumps(envelope),
                customer_ref=customer_ref,
                cost_centre=cost_centre,
                tenant=self.audience,
                organisation=self.organisation,
            ),
            audit=[
                AuditFact(
                    actor=acting_actor(self.scope).value,
                    action="guarantee.sold",
                    subject=contract.id,
                    details={
                        "plan": offer.plan_id,
                        "terms_version": offer.terms_version,
                        "device": device_id,
                        "price": price.to_json(),
                        "expires_on": offer.expires_on.isoformat(),
                    },
                )
            ],
        )
        return envelope

    def guarantee(self, contract_id: str) -> GuaranteeContract:
        """A guarantee contract.

        Raises:
            GuaranteeNotFoundError: no contract in scope has that id.
        """
        from tradein_sdk._domain.guarantees import contract_from_document  # noqa: PLC0415 - loads with the first call

        return contract_from_document(self.guarantee_document(contract_id)["payload"])

    def guarantee_document(self, contract_id: str) -> dict[str, Any]:
        """A guarantee contract's signed envelope (what the customer verifies offline)."""
        record = self._port(GuaranteeStore).get_guarantee(contract_id, **self._in_scope)
        document: dict[str, Any] = json.loads(record.document)
        return document

    def exercise_guarantee(
        self,
        contract_id: str,
        *,
        grade: str | None,
        locked: bool,
        market: Money,
        outstanding_balance: Money | None = None,
        new_contract: bool = False,
    ) -> Exercise:
        """Exercise a guarantee once, on the clock's day, from the inspection of the returned device.

        Args:
            contract_id: the contract.
            grade: the pricing grade inspection found (``None``: a knockout applies).
            locked: inspection found an account lock on.
            market: the day's market quote for the device as inspected.
            outstanding_balance: what is still owed on the financed device (upgrade plans).
            new_contract: the customer signs the new contract an upgrade plan asks for.

        Raises:
            GuaranteeError: ``already_exercised`` (also by a concurrent call: nothing is written twice),
                ``not_yet_exercisable``, ``expired``, ``new_contract_required``.
            GuaranteeNotFoundError: no contract in scope has that id.
        """
        from tradein_sdk._domain.guarantees import contract_from_document, exercise  # noqa: PLC0415 - loads with the first call

        record = self._port(GuaranteeStore).get_guarantee(contract_id, **self._in_scope)
        contract = contract_from_document(json.loads(record.document)["payload"])
        now = self.clock.now()
        done = exercise(
            contract,
            on=now.date(),
            grade=grade,
            locked=locked,
            market=market,
            exercised_before=record.exercised_at is not None,
            outstanding_balance=outstanding_balance,
            new_contract=new_contract,
        )
        details = {
            "amount": done.amount.to_json(),
            "basis": done.basis.value,
            "guaranteed": done.guaranteed.to_json(),
            "market": done.market.to_json(),
            "early_fee": done.early_fee.to_json(),
            "floor_met": done.floor_met,
            "reasons": list(done.reasons),
            "on": done.on.isoformat(),
        }
        recorded = self._port(GuaranteeStore).record_exercise(
            contract_id,
            at=now,
            exercise=json.dumps(details),
            audit=[
                AuditFact(
                    actor=acting_actor(self.scope).value,
                    action="guarantee.exercised",
                    subject=contract_id,
                    details=details,
                )
            ],
        )
        if not recorded:
            raise GuaranteeError(
                "guarantee {contract} was exercised already", rule="already_exercised", contract=contract_id
            )
        return done

    def guarantee_liability(
        self, *, as_of: dt.date | None = None, currency: str | None = None, curve: ResidualCurve | None = None
    ) -> Liability:
        """The outstanding guarantees by month of expected exercise: guaranteed, market, cost, reserve.

        Args:
            as_of: the day of the view (default: today).
            currency: the contracts' currency (default: the plans').
            curve: the residual-value model (default: :class:`ResidualCurve`).
        """
        from tradein_sdk._domain.guarantees import liability_view  # noqa: PLC0415 - loads with the first call

        as_of = as_of or self.clock.now().date()
        currency = currency or self.guarantee_plans.currency
        held = (
            _outstanding(record)
            for record in self._port(GuaranteeStore).outstanding_guarantees(on=as_of, **self._in_scope)
        )
        return liability_view(held, as_of=as_of, currency=currency, curve=curve)


def _record(
    contract: GuaranteeContract,
    document: str,
    *,
    customer_ref: str | None,
    cost_centre: str | None,
    tenant: str | None,
    organisation: str | None,
) -> GuaranteeRecord:
    """The store's record of a contract."""
    offer = contract.offer
    return GuaranteeRecord(
        contract_id=contract.id,
        plan_id=offer.plan_id,
        sold_at=contract.sold_at,
        purchased_on=contract.purchased_on,
        exercisable_from=offer.exercisable_from,
        expires_on=offer.expires_on,
        currency=contract.currency,
        price=offer.price.amount,
        schedule=json.dumps(
            [
                [line.starts_on.isoformat(), line.ends_on.isoformat(), str(line.amount.amount)]
                for line in offer.schedule
            ]
        ),
        kind=offer.kind.value,
        document=document,
        customer_ref=customer_ref,
        cost_centre=cost_centre,
        tenant=tenant,
        organisation=organisation,
    )


def _outstanding(record: GuaranteeRecord) -> OutstandingGuarantee:
    """The liability view's part of a stored contract, read from its columns (no envelope, no signature)."""
    from tradein_sdk._domain.guarantees import OutstandingGuarantee, PlanKind  # noqa: PLC0415 - loads with the first call

    return OutstandingGuarantee(
        purchased_on=record.purchased_on,
        exercisable_from=record.exercisable_from,
        expires_on=record.expires_on,
        price=Money(record.price, record.currency),
        kind=PlanKind(record.kind),
        schedule=tuple(
            (dt.date.fromisoformat(starts), dt.date.fromisoformat(ends), Decimal(amount))
            for starts, ends, amount in json.loads(record.schedule)
        ),
    )
