"""Trade-in orders: the state machine each device follows, its deadlines, the inspection diff and payout data.

The package's modules: :mod:`.vocabulary` (states, actors, events), :mod:`.model` (the order, its devices and
events, the delivery policy), :mod:`.inspection`, :mod:`.machine` (the transition table and
:func:`~.machine.apply`) and :mod:`.deadlines` (:func:`~.deadlines.tick`, reminders). What an order comes to
in money is netted from its ledger: :mod:`tradein_sdk._domain.ledger` and :mod:`tradein_sdk._domain.outcome`.

Pure: no I/O, no database, no clock of its own (``now`` is always a parameter) and no randomness (event ids
and payout references come from the caller). An order holds one or more devices, each with its own quote
and its own path; ``order_outcome`` nets them (some paid, some returned, some recycled). The order of a
checkout without a trade-in has none (:func:`~.model.open_purchase_order`); :mod:`.reference` gives an
order's human reference.

A device changes state only through :func:`apply`, which looks the event up in one declarative table
(:func:`transition_table`; :func:`transitions_mermaid` draws it). Time-driven transitions (expiry, silence
on a revised offer) come from :func:`due_actions` and are applied by :func:`tick`.

States (:class:`DeviceState`)::

    accepted            the quote was accepted at checkout; nothing has been sent yet
    awaiting_shipment   a label was issued; the device must be sent by ``send_by``
    in_transit          the carrier has it
    received            it arrived, or was handed over in a store
    on_hold             held at receipt: blocklist hit, police request, ownership check
    released            the hold was lifted
    surrendered         handed to the authorities (final)
    inspected           the inspection is recorded
    confirmed           the inspection matches the quote (or the quote was guaranteed): the amount stands
    revised             a lower offer was made; the shopper answers by ``respond_by``
    mismatch            a major mismatch: another IMEI, model or variant, a lock that cannot be removed,
                        a blocklisted device
    revision_accepted   the lower offer was accepted (by the shopper, or by silence if the shop says so)
    revision_declined   declined (or silence): the device goes back free of charge by ``return_by``
    returning           on its way back to the shopper
    returned            back with the shopper (final)
    paid                paid by bank transfer
    credited            paid as a voucher or as credit on the new purchase
    recycled            no value: recycled free of charge (final)
    disposed            after purchase: refurbished, used for parts or recycled (final)
    expired             not sent in time (staff can still accept a late arrival)
    cancelled           cancelled before shipping (final)

Actors (:class:`Actor`): ``shopper``, ``staff``, ``provider`` (carrier, inspection partner) and ``system``.

Errors, each a :class:`~tradein_sdk.TradeInError` with a stable ``code``::

    OrderError                        order_error
    ├── IllegalTransitionError        illegal_transition       (no such event in the device's state)
    │   ├── StaleEventError           stale_event              (the device is already past the event)
    │   ├── ActorNotAllowedError      actor_not_allowed        (.actor, .allowed)
    │   └── GuardFailedError          guard_failed             (.guard names the guard)
    ├── EventConflictError            event_conflict           (an event id reused for another event)
    ├── OrderDeviceNotFoundError      order_device_not_found
    ├── InvalidOrderError             order_invalid
    └── InspectionInputError          inspection_input_invalid (.field)
    InvalidPolicyError                invalid_policy           (a ConfigurationError; .field)
    InvalidPayoutError                invalid_payout           (.field, .rule)

Duplicated and reordered events: an event whose id the order has already recorded (for the same device, kind
and actor) is ignored, and :func:`apply` returns the order unchanged. An event that arrives after the device
has moved past it (the carrier's "in transit" scan after the device was received) raises
:class:`StaleEventError`, which a webhook handler may acknowledge and drop; any other event that does not fit
the device's state raises :class:`IllegalTransitionError`. Reusing an event id for a different event raises
:class:`EventConflictError`.

Personal data: the order holds a payout *reference* (a pseudonymous id) and the method only. The payout
details (:class:`BankTransfer`, ...) are validated here but stored separately, so they can be erased
without touching the order or its history. Free-text ``reason`` fields are recorded in the history: they
must not carry personal data.
"""
