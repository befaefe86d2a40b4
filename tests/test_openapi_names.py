"""The OpenAPI document names every schema once, and documents the body each handler reads
(issue 12, item 8).

Two schemas of one name shadowed each other: the merge of persons documented the tips' body
(`into_id` where the server wants `other_id`), and `POST /api/declarations` documented the door
visit's declaration, without `client_id`. A client generated from the document failed.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import pytest
from django.utils import translation
from ninja import Schema

from fangyi.api import api


def _schema_classes() -> dict[str, set[str]]:
    names: dict[str, set[str]] = defaultdict(set)

    def walk(cls):
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("fangyi"):
                names[sub.__name__].add(f"{sub.__module__}.{sub.__qualname__}")
            walk(sub)

    walk(Schema)
    return names


def test_no_two_schemas_share_a_name():
    doubles = {name: where for name, where in _schema_classes().items() if len(where) > 1}
    assert doubles == {}


def _body_operations():
    for _prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for op in view.operations:
                for model in op.models:
                    if getattr(model, "__ninja_param_source__", None) != "body":
                        continue
                    for field in model.model_fields.values():
                        yield path, op.methods, field.annotation


BODIES = list(_body_operations())


@cache
def _document() -> dict:
    # Built inside a test, never at import: building it at collection time left another
    # language active for the tests that ran next.
    with translation.override("en"):
        return api.get_openapi_schema()


def _resolve(ref: dict) -> tuple[str, dict]:
    name = ref["$ref"].rsplit("/", 1)[-1]
    return name, _document()["components"]["schemas"][name]


@pytest.mark.parametrize(
    ("path", "methods", "model"), BODIES, ids=[f"{m[0]} {p}" for p, m, _ in BODIES]
)
def test_every_documented_body_is_the_one_the_handler_reads(path, methods, model):
    operation = _document()["paths"]["/api" + path][methods[0].lower()]
    content = operation["requestBody"]["content"]
    documented = next(iter(content.values()))["schema"]
    if "$ref" not in documented or not isinstance(model, type):
        pytest.skip("not a single schema body")
    name, component = _resolve(documented)
    assert name == model.__name__
    expected = set(model.model_json_schema(by_alias=True).get("properties", {}))
    assert set(component.get("properties", {})) == expected


def test_the_two_bodies_the_field_trial_found():
    merge = _document()["paths"]["/api/persons/{person_id}/merge"]["post"]
    _name, body = _resolve(next(iter(merge["requestBody"]["content"].values()))["schema"])
    assert "other_id" in body["properties"] and "into_id" not in body["properties"]
    declare = _document()["paths"]["/api/declarations"]["post"]
    _name, body = _resolve(next(iter(declare["requestBody"]["content"].values()))["schema"])
    assert "client_id" in body["properties"]


@pytest.mark.django_db
def test_a_client_built_from_the_document_merges_two_persons(officer, jiwu_household):
    """The request a generated client sends (the documented fields only) is accepted."""
    from tests.conftest import english_login

    client = english_login(officer)
    made = [
        client.post(
            "/api/persons",
            {"name": "双胞者", "id_type": "none", "household_id": jiwu_household.pk,
             "allow_duplicates": True},
            content_type="application/json",
        ).json()["id"]
        for _ in range(2)
    ]  # fmt: skip
    merge = _document()["paths"]["/api/persons/{person_id}/merge"]["post"]
    _name, body = _resolve(next(iter(merge["requestBody"]["content"].values()))["schema"])
    payload = {key: made[1] for key in body.get("required", [])}
    response = client.post(
        f"/api/persons/{made[0]}/merge", payload, content_type="application/json"
    )
    assert response.status_code == 200, response.content
