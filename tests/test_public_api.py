from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tradein_sdk
import tradein_sdk._errors as errors_module
from tradein_sdk import TradeInError, transitions_mermaid


def test_all_is_sorted_and_complete() -> None:
    """__all__ lists every public name once, sorted; each resolves, lazily loaded ones included."""
    names = tradein_sdk.__all__
    assert names == sorted(
        names, key=lambda name: (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)
    )
    assert len(set(names)) == len(names)
    assert dir(tradein_sdk) == sorted(names)
    for name in names:
        assert getattr(tradein_sdk, name) is not None, name
    public = {name for name in vars(tradein_sdk) if not name.startswith("_")} - {
        "annotations",
        "TYPE_CHECKING",
    }
    submodules = {name for name, value in vars(tradein_sdk).items() if inspect.ismodule(value)}
    assert public - submodules <= set(names)


def test_unknown_attribute_is_an_attribute_error() -> None:
    """A name the package does not have raises AttributeError, as for any module."""
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = tradein_sdk.Nope


def test_every_public_callable_has_a_docstring() -> None:
    """Each exported class, function and public method says what it does."""
    missing = []
    for name in tradein_sdk.__all__:
        value = getattr(tradein_sdk, name)
        if not callable(value):
            continue
        if not inspect.getdoc(value):
            missing.append(name)
        if inspect.isclass(value):
            for attribute, member in vars(value).items():
                if attribute.startswith("_") or (not callable(member) and not isinstance(member, property)):
                    continue
                if not inspect.getdoc(member):
                    missing.append(f"{name}.{attribute}")
    assert missing == []


def test_error_codes_are_unique_and_stable() -> None:
    """Every TradeInError subclass has its own code; the codes the docs list do not change."""
    classes = [
        value
        for value in vars(errors_module).values()
        if inspect.isclass(value) and issubclass(value, TradeInError)
    ]
    codes = {cls.__name__: cls.code for cls in classes}
    assert len(set(codes.values())) == len(codes)
    assert codes["CurrencyMismatchError"] == "currency_mismatch"
    assert codes["InvalidIMEIError"] == "invalid_imei"
    assert codes["DocumentInvalidError"] == "document_invalid"
    assert codes["DeviceNotFoundError"] == "device_not_found"
    for cls in classes:
        assert cls.code in (errors_module.__doc__ or ""), cls.__name__


def test_import_is_cheap() -> None:
    """Importing tradein_sdk loads none of the heavy dependencies (they load on first use)."""
    heavy = ("babel", "jsonschema", "cattrs", "httpx", "sqlalchemy", "stdnum")
    code = (
        f"import json, sys; import tradein_sdk; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_readme_python_examples_run() -> None:
    """Every ```python block of the README runs as written."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = [block.split("```", 1)[0] for block in readme.split("```python\n")[1:]]
    assert blocks, "the README has Python examples"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - the README's own examples


def test_readme_state_diagram_is_the_transition_table() -> None:
    """The README's order diagram is exactly what the state machine's table draws."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"```mermaid\n{transitions_mermaid()}\n```" in readme
