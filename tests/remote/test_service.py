"""The trade-in service (WSGI): API keys, problem documents, idempotency keys kept in the store."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from grading_questionnaire import example_answers
from tradein_sdk._adapters.sql.store import SQLStore
from tradein_sdk._domain.tenancy import Role, Scope
from tradein_sdk._errors import ConfigurationError
from tradein_sdk._remote.api import operations
from tradein_sdk._remote.service import ApiKeys, TradeInService, create_service, make_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tradein_sdk import FixedClock, TradeIn

KEY = "store-key-0123456789"
DEVICE = "apple-iphone-13-128gb"


def answers(name: str = "flawless") -> dict[str, Any]:
    """A bundled smartphone example answer set."""
    return example_answers("smartphone", name).answers


@pytest.fixture
def http(trade_in: TradeIn) -> Iterator[httpx.Client]:
    """An httpx client calling the service in-process, with a valid key."""
    service = TradeInService(trade_in, api_keys={"store-1": KEY})
    transport = httpx.WSGITransport(app=service)
    with httpx.Client(
        transport=transport, base_url="http://service", headers={"Authorization": f"Bearer {KEY}"}
    ) as client:
        yield client


def problem(response: httpx.Response) -> dict[str, Any]:
    """The problem document of an error answer (checking its media type)."""
    assert response.headers["content-type"] == "application/problem+json"
    document: dict[str, Any] = response.json()
    assert document["status"] == response.status_code
    assert document["type"] == f"urn:tradein-sdk:problem:{document['code']}"
    return document


def quote_body(device: str = DEVICE, name: str = "flawless") -> dict[str, Any]:
    """The body of a quote request."""
    return {"device_id": device, "answers": answers(name)}


# -- keys and routes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-key-0123456789", f"Basic {KEY}", f"Bearer {KEY}x", "Bearer"]
)
def test_requests_without_a_valid_key_are_refused(http: httpx.Client, authorization: str | None) -> None:
    """No key, a wrong key or another scheme: 401 with WWW-Authenticate, and nothing runs."""
    headers = {} if authorization is None else {"Authorization": authorization}
    http.headers.pop("Authorization")
    response = http.post("/v1/quotes", json=quote_body(), headers=headers)
    assert response.status_code == 401
    assert problem(response)["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_openapi_document_needs_no_key(http: httpx.Client) -> None:
    """The OpenAPI document is public and is the one in schemas/."""
    http.headers.pop("Authorization")
    response = http.get("/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    documented = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert documented == {*operations(), "provider_event"}


def test_unknown_paths_and_methods(http: httpx.Client) -> None:
    """404 route_not_found for an unknown path; 405 with Allow for a known path and another method."""
    missing = http.get("/v1/nothing")
    assert missing.status_code == 404
    assert problem(missing)["code"] == "route_not_found"
    wrong = http.delete("/v1/orders/ord_1")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET"
    assert problem(wrong)["code"] == "method_not_allowed"


def test_every_answer_has_a_request_id(http: httpx.Client) -> None:
    """Successes and errors carry a distinct X-Request-Id."""
    ids = {http.get("/v1/catalog/search", params={"text": "pixel"}).headers["x-request-id"] for _ in range(3)}
    ids.add(http.get("/v1/orders/nope").headers["x-request-id"])
    assert len(ids) == 4
    assert all(value.startswith("req_") for value in ids)


def test_api_keys_are_checked_and_held_as_digests() -> None:
    """Each configured key grants its name's scope; short, shared or malformed keys are refused."""
    keys = ApiKeys.parse(" berlin = key-of-berlin-000001 , hq@carrier:back_office=key-of-the-hq-0000001 ")
    berlin = keys.scope_for("key-of-berlin-000001")
    assert berlin == Scope(tenant="berlin", organisation="berlin", role=Role.STORE)
    assert keys.scope_for("key-of-the-hq-0000001") == Scope(
        tenant="hq", organisation="carrier", role=Role.BACK_OFFICE
    )
    assert keys.scope_for("key-of-rome-00000001") is None
    assert "key-of-berlin-000001" not in repr(keys)
    with pytest.raises(ConfigurationError, match="at least 16"):
        ApiKeys.of({"berlin": "short"})
    with pytest.raises(ConfigurationError, match="share one key"):
        ApiKeys.of({"berlin": KEY, "paris": KEY})
    with pytest.raises(ConfigurationError, match="client=key"):
        ApiKeys.parse("berlin")
    for name in ("", "Berlin", "berlin:owner", "berlin@Carrier", "ber lin"):
        with pytest.raises(ConfigurationError, match=r"tenant\[@organisation\]"):
            ApiKeys.of({name: KEY})


def test_service_needs_keys_and_a_day_of_idempotency(trade_in: TradeIn) -> None:
    """No key at all, or keeping idempotency keys less than 24 hours, is a configuration error.

    A key kept in the store is enough: the service then starts without ``$TRADEIN_API_KEYS``.
    """
    with pytest.raises(ConfigurationError, match="24 hours"):
        TradeInService(trade_in, api_keys={"a": KEY}, idempotency_ttl=timedelta(hours=1))
    with pytest.raises(ConfigurationError, match="TRADEIN_API_KEYS"):
        create_service(trade_in, environ={})
    service = create_service(trade_in, environ={"TRADEIN_API_KEYS": f"store-1={KEY}"})
    assert service.trade_in is trade_in
    _, key = trade_in.create_api_key(tenant="store-2", role="store")
    assert create_service(trade_in, environ={}).trade_in is trade_in
    answer = httpx.Client(transport=httpx.WSGITransport(app=service), base_url="http://service").get(
        "/v1/orders", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"orders": [], "next_cursor": None}


# -- bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code", "path"),
    [
        (b"{not json", "request_malformed", None),
        (b'{"device_id": 1, "device_id": 2}', "request_malformed", None),
        (b'{"device_id": NaN}', "request_malformed", None),
        (b"[1, 2]", "request_invalid", "$"),
        (json.dumps({"answers": {}}).encode(), "request_invalid", "$.device_id"),
        (json.dumps({"device_id": DEVICE, "answers": {}, "price": "1000"}).encode(), "request_invalid", "$"),
        (json.dumps({"device_id": DEVICE, "answers": [], "channel": "x"}).encode(), "request_invalid", None),
    ],
)
def test_malformed_bodies_name_the_problem(
    http: httpx.Client, content: bytes, code: str, path: str | None
) -> None:
    """A body that is not JSON, or does not fit the operation, is a 400 naming the JSON path."""
    response = http.post("/v1/quotes", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    document = problem(response)
    assert document["code"] == code
    if path is not None:
        assert path in [item["path"] for item in document["problems"]]


def test_a_body_over_one_mebibyte_is_refused(http: httpx.Client) -> None:
    """413 without reading it."""
    response = http.post("/v1/quotes", content=b" " * ((1 << 20) + 1))
    assert response.status_code == 413
    assert problem(response)["code"] == "request_too_large"


def test_query_parameters_are_typed(http: httpx.Client) -> None:
    """A limit is a number, category one of the categories, unknown parameters are refused."""
    found = http.get("/v1/catalog/search", params={"text": "galaxy", "limit": "2", "category": "smartphone"})
    assert found.status_code == 200
    assert len(found.json()["results"]) == 2
    for params, name in [
        ({"text": "galaxy", "limit": "many"}, "query.limit"),
        ({"text": "galaxy", "category": "toaster"}, "query.category"),
        ({"text": "galaxy", "sort": "price"}, "sort"),
        ({}, "query.text"),
    ]:
        response = http.get("/v1/catalog/search", params=params)
        assert response.status_code == 400, params
        assert name in [item["path"] for item in problem(response)["problems"]]
    staff = http.get("/v1/questionnaires/smartphone", params={"locale": "fr", "staff": "true"})
    assert staff.json()["audience"] == "staff"
    assert staff.json()["locale"] == "fr"


def test_library_errors_become_problem_documents(http: httpx.Client) -> None:
    """The library's code, message, parameters and per-answer problems travel in the document."""
    invalid = http.post("/v1/quotes", json={"device_id": DEVICE, "answers": {"display_glass": "shattered"}})
    assert invalid.status_code == 422
    document = problem(invalid)
    assert document["code"] == "answers_invalid"
    codes = {(item["path"], item["code"]) for item in document["problems"]}
    assert ("$.display_glass", "option_not_offered") in codes
    assert all("message_id" in item for item in document["problems"])

    unknown = http.post("/v1/quotes", json=quote_body("acme-phone-1"))
    assert unknown.status_code == 404
    assert problem(unknown)["params"] == {"device_id": "acme-phone-1"}

    locale = http.get("/v1/questionnaires/smartphone", params={"locale": "xx_YY"})
    assert locale.status_code == 422
    assert problem(locale)["code"] == "unknown_locale"


def test_unexpected_failures_are_500_without_details(
    trade_in: TradeIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug answers 500 internal_error naming only the request id; the log has the rest."""

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(trade_in, "search", broken)
    service = TradeInService(trade_in, api_keys={"store-1": KEY})
    with httpx.Client(transport=httpx.WSGITransport(app=service), base_url="http://s") as client:
        response = client.get("/v1/catalog/search?text=x", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 500
    document = problem(response)
    assert document["code"] == "internal_error"
    assert "secret" not in response.text
    assert response.headers["x-request-id"] in document["detail"]


# -- idempotency ---------------------------------------------------------------------------------------


def test_a_repeat_returns_the_identical_answer_and_changes_nothing(
    http: httpx.Client, trade_in: TradeIn
) -> None:
    """Same key, same body (in another key order): the stored bytes again, marked as replayed."""
    body = quote_body()
    first = http.post("/v1/quotes", json=body, headers={"Idempotency-Key": "k-1"})
    reordered = json.dumps(dict(reversed(list(body.items())))).encode()
    again = http.post(
        "/v1/quotes",
        content=reordered,
        headers={"Idempotency-Key": "k-1", "Content-Type": "application/json"},
    )
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    quote_id = first.json()["quote"]["id"]
    assert trade_in.get_quote(quote_id).quote.id == quote_id

    accept = {"tokens": [first.json()["token"]]}
    order = http.post("/v1/orders", json=accept, headers={"Idempotency-Key": "o-1"})
    repeat = http.post("/v1/orders", json=accept, headers={"Idempotency-Key": "o-1"})
    assert order.status_code == repeat.status_code == 201
    assert repeat.json()["id"] == order.json()["id"]
    fresh = http.post("/v1/orders", json=accept, headers={"Idempotency-Key": "o-2"})
    assert fresh.status_code == 422
    assert problem(fresh)["code"] == "quote_already_redeemed"


def test_the_same_key_with_other_parameters_is_refused(http: httpx.Client) -> None:
    """Another body, path or method under a used key: 422 idempotency_key_reused, nothing done."""
    assert http.post("/v1/quotes", json=quote_body(), headers={"Idempotency-Key": "k"}).status_code == 201
    other_device = quote_body("apple-iphone-14-128gb")
    other = http.post("/v1/quotes", json=other_device, headers={"Idempotency-Key": "k"})
    assert other.status_code == 422
    assert problem(other)["code"] == "idempotency_key_reused"
    other_path = http.post("/v1/orders", json={"tokens": ["not-a-token"]}, headers={"Idempotency-Key": "k"})
    assert problem(other_path)["code"] == "idempotency_key_reused"


def test_errors_are_kept_too_but_retryable_ones_are_not(http: httpx.Client, trade_in: TradeIn) -> None:
    """A 422 is the answer for good; a 503 is forgotten, so the retry runs the request again."""
    bad = {"device_id": DEVICE, "answers": {"display_glass": "shattered"}}
    first = http.post("/v1/quotes", json=bad, headers={"Idempotency-Key": "bad"})
    assert http.post("/v1/quotes", json=bad, headers={"Idempotency-Key": "bad"}).content == first.content

    original = trade_in.quote
    calls = []

    def failing_once(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        calls.append(1)
        if len(calls) == 1:
            from tradein_sdk._errors import StoreError  # noqa: PLC0415

            raise StoreError("the database went away")
        return original(*args, **kwargs)

    trade_in.quote = failing_once  # type: ignore[method-assign]
    down = http.post("/v1/quotes", json=quote_body(), headers={"Idempotency-Key": "retry"})
    assert down.status_code == 503
    assert problem(down)["code"] == "store_error"
    up = http.post("/v1/quotes", json=quote_body(), headers={"Idempotency-Key": "retry"})
    assert up.status_code == 201
    assert "idempotent-replayed" not in up.headers
    assert len(calls) == 2


def test_keys_are_per_client(trade_in: TradeIn) -> None:
    """Two clients may use the same key for different requests."""
    service = TradeInService(trade_in, api_keys={"a": "key-of-client-a-0001", "b": "key-of-client-b-0001"})
    with httpx.Client(transport=httpx.WSGITransport(app=service), base_url="http://s") as client:
        pairs = [("key-of-client-a-0001", DEVICE), ("key-of-client-b-0001", "apple-iphone-14-128gb")]
        for key, device in pairs:
            response = client.post(
                "/v1/quotes",
                json=quote_body(device),
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "shared"},
            )
            assert response.status_code == 201
            assert response.json()["quote"]["device"]["variant_id"] == device


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_unusable_idempotency_keys_are_refused(http: httpx.Client, key: str) -> None:
    """Keys are 1-255 printable ASCII characters."""
    response = http.post("/v1/quotes", json=quote_body(), headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_idempotency_key"


def test_keys_are_kept_a_day_then_purged(trade_in: TradeIn, clock: FixedClock) -> None:
    """Within 24 hours a repeat is replayed; after that the key is forgotten and may be used anew."""
    service = TradeInService(trade_in, api_keys={"store-1": KEY})
    headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": "daily"}
    with httpx.Client(transport=httpx.WSGITransport(app=service), base_url="http://s") as client:
        first = client.post("/v1/quotes", json=quote_body(), headers=headers)
        clock.advance(hours=23, minutes=59)
        assert client.post("/v1/quotes", json=quote_body(), headers=headers).content == first.content
        clock.advance(hours=2)
        client.get("/v1/catalog/search?text=x", headers={"Authorization": f"Bearer {KEY}"})
        other = client.post("/v1/quotes", json=quote_body("apple-iphone-14-128gb"), headers=headers)
    assert other.status_code == 201
    assert other.json()["quote"]["id"] != first.json()["quote"]["id"]


def test_a_key_whose_request_is_running_is_in_use(trade_in: TradeIn, start: datetime) -> None:
    """A second request while the first holds the key gets 409; a stale claim can be taken over."""
    store = trade_in.store
    assert isinstance(store, SQLStore)
    claim = {"client": "c", "key": "k", "request_hash": "h" * 64, "lock_for": timedelta(seconds=60)}
    assert store.claim_idempotency_key(now=start, **claim) is None  # type: ignore[arg-type]
    from tradein_sdk._errors import IdempotencyKeyInUseError, IdempotencyKeyReusedError  # noqa: PLC0415

    with pytest.raises(IdempotencyKeyInUseError):
        store.claim_idempotency_key(now=start + timedelta(seconds=30), **claim)  # type: ignore[arg-type]
    with pytest.raises(IdempotencyKeyReusedError):
        store.claim_idempotency_key(now=start, **{**claim, "request_hash": "g" * 64})  # type: ignore[arg-type]
    assert store.claim_idempotency_key(now=start + timedelta(seconds=61), **claim) is None  # type: ignore[arg-type]


def _concurrent_repeats(url: str, count: int) -> list[httpx.Response]:
    barrier = threading.Barrier(count)
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def send() -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as client:
            barrier.wait()
            response = client.post("/v1/quotes", json=quote_body(), headers={"Idempotency-Key": "race"})
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=send) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_concurrent_repeats_issue_one_quote(any_store_trade_in: TradeIn) -> None:
    """20 simultaneous requests with one key over a real port: one quote; the rest replay it or wait (409)."""
    server = make_server(TradeInService(any_store_trade_in, api_keys={"s": KEY}), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        responses = _concurrent_repeats(f"http://127.0.0.1:{server.server_port}", 20)
    finally:
        server.shutdown()
        server.server_close()
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}
    quote_ids = {response.json()["quote"]["id"] for response in responses if response.status_code == 201}
    assert len(quote_ids) == 1
    assert statuses.count(201) >= 1
    store = any_store_trade_in.store
    assert isinstance(store, SQLStore)
    import sqlalchemy as sa  # noqa: PLC0415

    with store._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM tradein_quotes")).scalar() == 1


def test_keep_alive_serves_many_requests_on_one_connection(trade_in: TradeIn) -> None:
    """The threaded server answers HTTP/1.1 and keeps the connection open, even after an early refusal."""
    server = make_server(TradeInService(trade_in, api_keys={"s": KEY}), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    connections: set[object] = set()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}") as client:
            refused = client.post("/v1/quotes", json=quote_body())  # no key: the body is left unread
            assert refused.status_code == 401
            for _ in range(5):
                auth = {"Authorization": f"Bearer {KEY}"}
                response = client.get("/v1/catalog/search?text=pixel", headers=auth)
                assert response.status_code == 200
                assert response.http_version == "HTTP/1.1"
                stream = response.extensions["network_stream"]
                connections.add(id(stream))
    finally:
        server.shutdown()
        server.server_close()
    assert len(connections) == 1


def test_tradein_serve_runs_the_service(tmp_path: Path) -> None:
    """`tradein serve --port 0` prints its URL, answers a client, and stops cleanly on Ctrl+C."""
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from tradein_sdk import TradeInClient  # noqa: PLC0415

    command = [sys.executable, "-m", "tradein_sdk._cli", "serve", "--port", "0", "--data-dir", str(tmp_path)]
    environment = {**os.environ, "TRADEIN_API_KEYS": ""}
    refused = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    assert refused.returncode == 1
    assert "TRADEIN_API_KEYS" in refused.stderr

    with subprocess.Popen(
        [*command, "--api-key", f"store-1={KEY}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            url = line.split(" on ", 1)[1].split(" ", 1)[0].removesuffix("/v1")
            with TradeInClient(base_url=url, api_key=KEY) as client:
                issued = client.quote(DEVICE, answers())
                assert client.get_quote(issued.quote.id).quote == issued.quote
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=30)
    assert process.returncode == 0


def test_a_revoked_stored_key_is_refused_and_a_new_one_works_at_once(trade_in: TradeIn) -> None:
    """Keys kept in the store: a minted key works at once; a revoked one is refused (401)."""
    service = TradeInService(trade_in, key_cache_seconds=0)
    record, key = trade_in.create_api_key(tenant="berlin", organisation="carrier-x", role="shop")
    with httpx.Client(transport=httpx.WSGITransport(app=service), base_url="http://service") as http:
        headers = {"Authorization": f"Bearer {key}"}
        assert http.get("/v1/orders", headers=headers).status_code == 200
        trade_in.revoke_api_key(record.key_id)
        refused = http.get("/v1/orders", headers=headers)
        assert refused.status_code == 401
        assert problem(refused)["code"] == "unauthenticated"
        cached = TradeInService(trade_in)  # the default trusts a scope 5 s: a revocation lands within that
        _, second = trade_in.create_api_key(tenant="berlin", organisation="carrier-x", role="shop")
        assert cached.scope_for(second) == Scope(tenant="berlin", organisation="carrier-x", role=Role.SHOP)
        assert cached.scope_for(key) is None
        assert cached.scope_for("tik_" + "x" * 600) is None
