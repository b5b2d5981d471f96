"""Hostile or sloppy HTTP input: every bad request is a 4xx problem document naming what is wrong."""

from __future__ import annotations

import io
import json
import socket
import threading
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tradein_sdk._remote.service import TradeInService, make_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tradein_sdk import TradeIn

KEY = "store-key-0123456789"
JSON = "application/json"
REVISION = "/v1/orders/ord_x/devices/dev_1/revision"


@pytest.fixture
def service(trade_in: TradeIn) -> TradeInService:
    """The service with one key and a 8 KiB body limit."""
    return TradeInService(trade_in, api_keys={"store-1": KEY}, max_body_bytes=8192)


@pytest.fixture
def http(service: TradeInService) -> Iterator[httpx.Client]:
    """An httpx client calling the service in-process, with a valid key."""
    with httpx.Client(
        transport=httpx.WSGITransport(app=service),
        base_url="http://service",
        headers={"Authorization": f"Bearer {KEY}"},
    ) as client:
        yield client


def problem(response: httpx.Response) -> dict[str, Any]:
    """The problem document of a 4xx answer, with its request id."""
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    document: dict[str, Any] = response.json()
    assert document["status"] == response.status_code
    assert document["request_id"] == response.headers["x-request-id"]
    return document


def nested(depth: int) -> bytes:
    """A quote body whose answers nest ``depth`` arrays deep."""
    return b'{"device_id": "x", "answers": {"a": ' + b"[" * depth + b"]" * depth + b"}}"


HOSTILE = [
    ("POST", "/v1/quotes", b'{"device_id": "x"}', "text/plain", 415, "unsupported_media_type", None),
    ("POST", "/v1/quotes", b'{"device_id": "x"}', "application/xml", 415, "unsupported_media_type", None),
    ("POST", "/v1/quotes", b"{}", "application/json; charset=latin-1", 415, "unsupported_media_type", None),
    ("POST", "/v1/quotes", b'{"a": "' + b"x" * 9000 + b'"}', JSON, 413, "request_too_large", None),
    ("POST", "/v1/quotes", b"", None, 400, "request_invalid", "$.device_id"),
    ("POST", "/v1/quotes", b"{}", JSON, 400, "request_invalid", "$.device_id"),
    ("POST", "/v1/quotes", b'{"device_id": "\xff\xfe"}', JSON, 400, "request_malformed", None),
    ("POST", "/v1/quotes", nested(100), JSON, 400, "request_malformed", "$.answers.a" + "[0]" * 62),
    ("POST", "/v1/quotes", nested(1500), JSON, 400, "request_malformed", "$.answers.a" + "[0]" * 62),
    (
        "POST",
        "/v1/quotes",
        b'{"device_id": "\\ud800", "answers": {}}',
        JSON,
        400,
        "request_invalid",
        "$.device_id",
    ),
    (
        "POST",
        "/v1/quotes",
        b'{"device_id": "x", "answers": {"\\udfff": 1}}',
        JSON,
        400,
        "request_invalid",
        "$.answers",
    ),
    (
        "POST",
        "/v1/quotes",
        b'{"device_id": "x", "answers": {}, "market": ["\\udc00"]}',
        JSON,
        400,
        "request_invalid",
        "$.market[0]",
    ),
    (
        "POST",
        "/v1/quotes",
        b'{"device_id": "x", "answers": {"a": 1e400}}',
        JSON,
        400,
        "request_malformed",
        None,
    ),
    (
        "POST",
        "/v1/quotes",
        b'{"device_id": "x", "answers": {"a": ' + b"9" * 5000 + b"}}",
        JSON,
        400,
        "request_malformed",
        None,
    ),
    (
        "POST",
        "/v1/quotes",
        b'{"device_id": "x", "device_id": "y", "answers": {}}',
        JSON,
        400,
        "request_malformed",
        "$",
    ),
    ("POST", "/v1/quotes", b'{"device_id": 5, "answers": {}}', JSON, 400, "request_invalid", "$.device_id"),
    ("POST", REVISION, b'{"accept": "no"}', JSON, 400, "request_invalid", "$.accept"),
    ("POST", REVISION, b'{"accept": 0}', JSON, 400, "request_invalid", "$.accept"),
    (
        "POST",
        "/v1/orders",
        b'{"tokens": ["t"], "instant_credit": "false"}',
        JSON,
        400,
        "request_invalid",
        "$.instant_credit",
    ),
    (
        "POST",
        "/v1/checkouts/confirm",
        b'{"summary": {}, "insurance_accepted": "no"}',
        JSON,
        400,
        "request_invalid",
        "$.insurance_accepted",
    ),
    ("POST", "/v1/orders/o/devices/d/events", b'{"kind": 1}', JSON, 400, "request_invalid", "$.kind"),
    ("GET", "/v1/questionnaires/smartphone?staff=maybe", b"", None, 400, "request_invalid", "query.staff"),
    ("GET", "/v1/questionnaires/smartphone?staff=1", b"", None, 400, "request_invalid", "query.staff"),
    ("GET", "/v1/catalog/search?text=x&limit=2.5", b"", None, 400, "request_invalid", "query.limit"),
    ("GET", "/healthz", b"", None, 200, None, None),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status", "code", "where"),
    HOSTILE,
    ids=[
        "text/plain",
        "xml",
        "latin-1 charset",
        "too large",
        "empty body",
        "empty object",
        "invalid UTF-8",
        "nested 100 deep",
        "nested 1500 deep",
        "lone surrogate in a value",
        "lone surrogate in a name",
        "lone surrogate in an array",
        "number too large for a float",
        "integer of 5000 digits",
        "duplicate member name",
        "number for a string",
        "accept: no",
        "accept: 0",
        "instant_credit: false",
        "insurance_accepted: no",
        "number for an enum",
        "staff=maybe",
        "staff=1",
        "limit=2.5",
        "control: health",
    ],
)
def test_hostile_requests_are_refused_with_a_problem_document(  # noqa: PLR0917 - one parameter per column of the table
    http: httpx.Client,
    method: str,
    path: str,
    body: bytes,
    content_type: str | None,
    status: int,
    code: str | None,
    where: str | None,
) -> None:
    """Each hostile request gets its 4xx status, the library's code and the JSON path or parameter."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = http.request(method, path, content=body, headers=headers)
    assert response.status_code == status, response.text
    if code is None:
        return
    document = problem(response)
    assert document["code"] == code
    if where is not None:
        assert where in [item["path"] for item in document.get("problems", [])], document


def test_a_body_of_the_wrong_type_names_what_it_expected(http: httpx.Client) -> None:
    """``{"accept": "no"}`` is not read as true: the problem says a boolean was expected."""
    response = http.post(REVISION, json={"accept": "no"})
    document = problem(response)
    assert "boolean" in document["problems"][0]["message"]


def wsgi_call(service: TradeInService, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    """Call the WSGI application directly with ``environ``."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    body = b"".join(service(environ, start_response))
    return answer["status"], answer["headers"], body


def chunked_environ(body: bytes, *, terminated: bool) -> dict[str, Any]:
    """A WSGI environ of a chunked POST /v1/grade (no Content-Length)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/v1/grade",
        "CONTENT_TYPE": JSON,
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": f"Bearer {KEY}",
        "wsgi.input": io.BytesIO(body),
    }
    if terminated:
        environ["wsgi.input_terminated"] = True
    return environ


def test_a_chunked_body_is_read_when_the_server_ends_the_input(service: TradeInService) -> None:
    """With ``wsgi.input_terminated`` the body is read to its end (and limited); without it, 411."""
    body = json.dumps({"category": "smartphone", "answers": {}}).encode()
    status, _, answer = wsgi_call(service, chunked_environ(body, terminated=True))
    assert status.startswith("422")  # read: the answers are incomplete
    assert json.loads(answer)["code"] == "answers_invalid"
    status, _, answer = wsgi_call(service, chunked_environ(b"x" * 9000, terminated=True))
    assert status.startswith("413")
    status, _, answer = wsgi_call(service, chunked_environ(body, terminated=False))
    assert status.startswith("411")
    assert json.loads(answer)["code"] == "length_required"


def test_the_development_server_reads_chunked_bodies_and_keeps_the_connection(trade_in: TradeIn) -> None:
    """A chunked body on the development server is decoded; the next request on the connection works."""
    service = TradeInService(trade_in, api_keys={"store-1": KEY})
    server = make_server(service, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    body = json.dumps({"category": "smartphone", "answers": {}}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    request = (
        b"POST /v1/grade HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() + b"\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
    )
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as conn:
            conn.sendall(request + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            while received.count(b"HTTP/1.1 ") < 2 or not received.endswith(b'{"status":"ok"}'):
                chunk = conn.recv(65536)
                assert chunk
                received += chunk
    finally:
        server.shutdown()
        server.server_close()
    assert received.startswith(b"HTTP/1.1 422")
    assert b"answers_invalid" in received
    assert b"HTTP/1.1 200" in received


@pytest.mark.parametrize(
    ("given", "kept"),
    [("abc-123_X.y:z", True), ("", False), ("x" * 129, False), ("a b", False), ("a/b", False)],
    ids=["well formed", "empty", "too long", "space", "slash"],
)
def test_a_well_formed_request_id_is_kept(http: httpx.Client, given: str, kept: bool) -> None:
    """``X-Request-Id`` comes back when well formed (else a new one), in the header and the problem."""
    response = http.post(
        "/v1/quotes",
        content=b"{}",
        headers={"X-Request-Id": given, "Content-Type": JSON},
    )
    request_id = response.headers["x-request-id"]
    assert (request_id == given) is kept
    if not kept:
        assert request_id.startswith("req_")
    assert problem(response)["request_id"] == request_id
