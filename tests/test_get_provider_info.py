"""Provider info: a broken one crashes every ``airflow`` command, so validate it against Airflow's schema."""

from __future__ import annotations

import importlib
import json
import pathlib
from importlib.metadata import entry_points

import airflow
import jsonschema

from airflow_provider_xai.get_provider_info import get_provider_info


def test_provider_info_validates_against_airflows_schema():
    schema = json.loads((pathlib.Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_entry_point_is_registered_for_the_distribution():
    (point,) = [
        e for e in entry_points(group="apache_airflow_provider") if e.dist.name == "airflow-provider-xai"
    ]
    assert point.load() is get_provider_info
    assert get_provider_info()["package-name"] == point.dist.name


def test_every_listed_class_and_module_imports():
    info = get_provider_info()
    (conn,) = info["connection-types"]
    module, _, name = conn["hook-class-name"].rpartition(".")
    hook = getattr(importlib.import_module(module), name)
    assert (hook.conn_type, hook.default_conn_name) == (conn["connection-type"], "xai_default")
    for kind in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[kind]:
            for module in entry["python-modules"]:
                importlib.import_module(module)


def test_connection_form_shows_the_key_as_a_password_field():
    (conn,) = get_provider_info()["connection-types"]
    behaviour = conn["ui-field-behaviour"]
    assert behaviour["relabeling"]["password"] == "API key"
    assert {"schema", "port", "login"} <= set(behaviour["hidden-fields"])
    assert "host" in behaviour["placeholders"]
