"""The OpenAPI document: current, complete, and kept by the service (Schemathesis against the real app)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grading_questionnaire._resources import shared_dir
from tradein_sdk._remote.api import operations
from tradein_sdk._remote.openapi import openapi_document, openapi_text
from tradein_sdk._remote.service import TradeInService, make_server

if TYPE_CHECKING:
    from tradein_sdk import TradeIn

KEY = "schemathesis-key-0123456789"


def test_the_committed_document_is_current() -> None:
    """schemas/openapi.json is what the operations and schema files generate (python scripts/openapi.py)."""
    assert (shared_dir("schemas") / "openapi.json").read_text(encoding="utf-8") == openapi_text()


def test_every_operation_is_documented_with_its_errors() -> None:
    """Each operation has its path, method, success status, problem answers and (for POST) the key header."""
    document = openapi_document()
    assert document["openapi"] == "3.1.0"
    for operation in operations().values():
        entry = document["paths"][operation.path][operation.method.lower()]
        assert entry["operationId"] == operation.id
        assert str(operation.status) in entry["responses"]
        assert entry["responses"]["422"]["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
        headers = [parameter["name"] for parameter in entry["parameters"] if parameter["in"] == "header"]
        assert headers == (["Idempotency-Key"] if operation.method == "POST" else [])
        path_parameters = [
            parameter["name"] for parameter in entry["parameters"] if parameter["in"] == "path"
        ]
        assert path_parameters == list(operation.path_parameters)


def test_every_reference_resolves_inside_the_document() -> None:
    """The JSON Schemas are embedded: no $ref points outside, and each one resolves."""
    document = openapi_document()

    def resolve(ref: str) -> object:
        assert ref.startswith("#/"), ref
        node: Any = document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    pending: list[Any] = [document]
    count = 0
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                assert resolve(node["$ref"]) is not None
                count += 1
            assert "$id" not in node
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    assert count > 100
    assert "quote" in document["components"]["schemas"]
    assert "answers" in document["components"]["schemas"]


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    tmp_path: Path, trade_in: TradeIn
) -> None:
    """A Schemathesis run against the service on a loopback port: thousands of generated requests.

    Examples, coverage, fuzzing and stateful phases; the checks are no 5xx, every answer's status,
    content type and body as the document says.
    """
    keys = {"fuzz@fuzzing:back_office": KEY}  # the role that may call the most operations
    server = make_server(TradeInService(trade_in, api_keys=keys), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"http://127.0.0.1:{server.server_port}/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {KEY}",
        "--checks",
        "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
        "--max-examples",
        "20",
        "--seed",
        "20261124",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    finally:
        server.shutdown()
        server.server_close()
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary
    tested = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert tested is not None, summary
    assert tested.group(1) == tested.group(2)
    assert int(tested.group(1)) > 1000


def test_a_problem_document_matches_its_schema() -> None:
    """The Problem component describes what the service sends (a quick check without Schemathesis)."""
    from jsonschema import Draft202012Validator  # noqa: PLC0415

    document = openapi_document()
    problem = {"$ref": "#/components/schemas/Problem", "components": document["components"]}
    sample = json.loads(
        b'{"type":"urn:tradein-sdk:problem:order_not_found","title":"Not Found","status":404,'
        b'"code":"order_not_found","detail":"No order x exists.","message_id":"No order {order_id} exists.",'
        b'"params":{"order_id":"x"}}'
    )
    Draft202012Validator(problem).validate(sample)
