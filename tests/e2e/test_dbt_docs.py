"""docs/kpis.md is generated from the marts' yml (transform/kpi_docs.py) and stays equal to it;
every mart column there has a definition, says whether it is additive and names the GitHub
documentation it follows. (No warehouse needed: plain file checks.)"""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.e2e.dbt_support import CONTRACT, MARTS_YML, TRANSFORM_DIR

pytestmark = pytest.mark.dbt


def kpi_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kpi_docs", TRANSFORM_DIR / "kpi_docs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def marts() -> list[dict[str, Any]]:
    return list(yaml.safe_load(MARTS_YML.read_text())["models"])


def test_docs_kpis_md_is_generated_from_the_yml() -> None:
    module = kpi_docs()
    assert module.KPIS_MD.read_text() == module.render(yaml.safe_load(MARTS_YML.read_text())), (
        "docs/kpis.md is out of date: run python transform/kpi_docs.py"
    )


def test_every_mart_sql_has_its_yml_and_the_contract_marts_are_there() -> None:
    documented = {model["name"] for model in marts()}
    files = {path.stem for path in (TRANSFORM_DIR / "models" / "marts").glob("*.sql")}
    assert documented == files
    assert set(CONTRACT) <= documented


@pytest.mark.parametrize("model", marts(), ids=lambda m: m["name"])
def test_every_column_is_defined_with_its_source_and_additivity(model: dict[str, Any]) -> None:
    assert model.get("description")
    for column in model["columns"]:
        meta = (column.get("config") or {}).get("meta") or {}
        assert column.get("description"), column["name"]
        assert isinstance(meta.get("additive"), bool), column["name"]
        assert str(meta.get("github_docs", "")).startswith("https://docs.github.com/"), column[
            "name"
        ]
    names = [column["name"] for column in model["columns"]]
    wanted = CONTRACT.get(model["name"], ())
    assert tuple(names[: len(wanted)]) == wanted


def test_rates_and_distinct_counts_are_not_additive() -> None:
    for model in marts():
        for column in model["columns"]:
            name = column["name"]
            if name.endswith(("rate", "_users")) or name.startswith(("median", "utilization")):
                assert column["config"]["meta"]["additive"] is False, (model["name"], name)
