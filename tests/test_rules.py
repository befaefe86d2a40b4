"""The risk rules: one table of declarations and what the rules propose, with the edge days.

`rules_evaluate` is pure when handed a RulesConfig, so most of this file needs no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fangyi.health.models import RiskArea, RiskSettings, Symptom
from fangyi.health.services import (
    AreaRule,
    RulesConfig,
    area_keys,
    rules_config,
    rules_evaluate,
)

D = dt.date
DAY = D(2020, 2, 15)  # the declaration's date in the table


def config(**overrides) -> RulesConfig:
    values = dict(
        observation_days=14,
        fever_threshold=Decimal("37.3"),
        areas=(
            AreaRule("湖北省", area_keys("湖北省", "湖北, 武汉, 武汉市"), D(2020, 1, 10)),
            AreaRule("温州市", area_keys("温州市", "温州"), D(2020, 1, 20), D(2020, 2, 5)),
        ),
        symptoms={"fever": "发热", "dry_cough": "干咳"},
    )
    values.update(overrides)
    return RulesConfig(**values)


def trip(place, start, end=None, transport="高铁"):
    return {"place": place, "from": start, "to": end or start, "transport": transport}


def contact(kind, day, who="王某"):
    return {"kind": kind, "who": who, "date": day, "place": "南宁"}


T = Decimal("36.5")

# (case, temperature, symptoms, travel, contacts, outcome, last_exposure, words in the reason)
CASES = [
    ("nothing", T, [], [], [], "cleared", None, ["no fever"]),
    ("just below the threshold", Decimal("37.2"), [], [], [], "cleared", None, []),
    ("at the threshold", Decimal("37.3"), [], [], [], "fever_clinic", None, ["37.3"]),
    ("high fever", Decimal("39.0"), [], [], [], "fever_clinic", None, ["39.0", "37.3"]),
    ("a symptom without fever", T, ["dry_cough"], [], [], "fever_clinic", None, ["干咳"]),
    (
        "fever beats travel",
        Decimal("38.0"),
        [],
        [trip("武汉市", D(2020, 2, 1))],
        [],
        "fever_clinic",
        D(2020, 2, 1),
        ["38.0", "back from 武汉市 on 2020-02-01"],
    ),
    (
        "back from Wuhan, as in the issue",
        T,
        [],
        [trip("武汉市", D(2020, 1, 28), D(2020, 2, 1))],
        [],
        "home",
        D(2020, 2, 1),
        ["back from 武汉市 on 2020-02-01, within 14 days"],
    ),
    (
        "day 14 after the last day counts",
        T,
        [],
        [trip("武汉", D(2020, 1, 25), D(2020, 2, 1))],
        [],
        "home",
        D(2020, 2, 1),
        ["2020-02-01"],
    ),
    (
        "day 15 does not",
        T,
        [],
        [trip("武汉", D(2020, 1, 25), D(2020, 1, 31))],
        [],
        "cleared",
        None,
        [],
    ),
    (
        "a stay that ends before counts_from",
        T,
        [],
        [trip("湖北", D(2020, 1, 1), D(2020, 1, 9))],
        [],
        "cleared",
        None,
        [],
    ),
    (
        "a stay that ends on counts_from",
        T,
        [],
        [trip("湖北", D(2020, 1, 1), D(2020, 2, 1))],
        [],
        "home",
        D(2020, 2, 1),
        [],
    ),
    (
        "the area's own name in the other script",
        T,
        [],
        [trip("湖北省十堰市", D(2020, 2, 3))],
        [],
        "home",
        D(2020, 2, 3),
        ["湖北省十堰市"],
    ),
    (
        "an alias typed in traditional matches a simplified alias",
        T,
        [],
        [trip("武汉市洪山区", D(2020, 2, 10))],
        [],
        "home",
        D(2020, 2, 10),
        [],
    ),
    (
        "an alias typed in simplified matches a traditional name",
        T,
        [],
        [trip("温州市", D(2020, 2, 2))],
        [],
        "home",
        D(2020, 2, 2),
        ["温州市"],
    ),
    (
        "days after counts_until do not count",
        T,
        [],
        [trip("温州", D(2020, 2, 6), D(2020, 2, 10))],
        [],
        "cleared",
        None,
        [],
    ),
    (
        "counts_until is the last day that counts",
        T,
        [],
        [trip("温州", D(2020, 2, 5), D(2020, 2, 10))],
        [],
        "home",
        D(2020, 2, 5),
        ["on 2020-02-05"],
    ),
    (
        "a place that is no risk area",
        T,
        [],
        [trip("桂林市", D(2020, 2, 10))],
        [],
        "cleared",
        None,
        [],
    ),
    (
        "the latest of two trips is the last exposure",
        T,
        [],
        [trip("武汉", D(2020, 1, 20), D(2020, 1, 24)), trip("湖北孝感", D(2020, 2, 7))],
        [],
        "home",
        D(2020, 2, 7),
        ["湖北孝感", "2020-02-07"],
    ),
    (
        "close contact with a confirmed case",
        T,
        [],
        [],
        [contact("confirmed", D(2020, 2, 10))],
        "central",
        D(2020, 2, 10),
        ["confirmed case (王某) on 2020-02-10, within 14 days"],
    ),
    (
        "a confirmed contact on day 14",
        T,
        [],
        [],
        [contact("confirmed", D(2020, 2, 1))],
        "central",
        D(2020, 2, 1),
        [],
    ),
    (
        "a confirmed contact on day 15",
        T,
        [],
        [],
        [contact("confirmed", D(2020, 1, 31))],
        "cleared",
        None,
        [],
    ),
    (
        "a suspected case: home observation",
        T,
        [],
        [],
        [contact("suspected", D(2020, 2, 12), who="")],
        "home",
        D(2020, 2, 12),
        ["suspected case on 2020-02-12"],
    ),
    (
        "contact beats travel, last exposure is the latest of both",
        T,
        [],
        [trip("武汉", D(2020, 2, 12))],
        [contact("confirmed", D(2020, 2, 5))],
        "central",
        D(2020, 2, 12),
        ["confirmed case", "back from 武汉"],
    ),
    (
        "travel without a temperature needs an assessment",
        None,
        [],
        [trip("桂林", D(2020, 2, 10))],
        [],
        "assessment",
        None,
        ["no temperature"],
    ),
    (
        "risk travel without a temperature is home observation, both said",
        None,
        [],
        [trip("武汉", D(2020, 2, 10))],
        [],
        "home",
        D(2020, 2, 10),
        ["back from 武汉", "no temperature"],
    ),
    ("no temperature and no travel", None, [], [], [], "cleared", None, []),
]


@pytest.mark.parametrize(
    "case,temperature,symptoms,travel,contacts,outcome,last,words",
    CASES,
    ids=[c[0] for c in CASES],
)
def test_rules_table(case, temperature, symptoms, travel, contacts, outcome, last, words):
    proposal = rules_evaluate(
        declared_on=DAY,
        temperature=temperature,
        symptoms=symptoms,
        travel=travel,
        contacts=contacts,
        config=config(),
    )
    assert proposal.outcome == outcome, proposal
    assert proposal.last_exposure == last, proposal
    for word in words:
        assert word in proposal.reason, (word, proposal.reason)
    assert proposal.reason


def test_dates_as_iso_strings_count_like_dates():
    a = rules_evaluate(
        declared_on=DAY,
        temperature=T,
        symptoms=[],
        travel=[trip("武汉", "2020-02-01")],
        contacts=[contact("confirmed", "2020-02-03")],
        config=config(),
    )
    assert (a.outcome, a.last_exposure) == ("central", D(2020, 2, 3))


def test_the_numbers_are_configuration():
    """Observation days and the fever threshold come from the configuration, not the code."""
    travel = [trip("武汉", D(2020, 2, 1))]
    short = config(observation_days=10)
    assert (
        rules_evaluate(
            declared_on=DAY, temperature=T, symptoms=[], travel=travel, contacts=[], config=short
        ).outcome
        == "cleared"
    )
    hot = config(fever_threshold=Decimal("36.5"))
    p = rules_evaluate(
        declared_on=DAY, temperature=T, symptoms=[], travel=[], contacts=[], config=hot
    )
    assert p.outcome == "fever_clinic"
    p = rules_evaluate(
        declared_on=DAY,
        temperature=T,
        symptoms=[],
        travel=travel,
        contacts=[],
        config=config(areas=()),
    )
    assert p.outcome == "cleared"


def test_a_one_character_alias_matches_only_the_whole_place():
    rule = AreaRule("湖北省", area_keys("湖北省", "鄂"), D(2020, 1, 10))
    assert rule.matches("鄂")
    assert not rule.matches("鄂尔多斯")  # Ordos is in Inner Mongolia
    assert rule.matches(" 湖北省 ")
    assert not rule.matches("")


def test_area_keys_split_on_any_separator_and_fold_scripts():
    assert area_keys("湖北省", "湖北，武汉、武汉; Wuhan") == tuple(
        sorted({"湖北省", "湖北", "武汉", "wuhan"})
    )


@pytest.mark.django_db
def test_rules_config_reads_active_areas_and_symptoms():
    RiskArea.objects.update_or_create(
        name="湖北省",
        defaults={"aliases": "武汉", "counts_from": D(2020, 1, 10), "is_active": True},
    )
    RiskArea.objects.create(name="旧区", counts_from=D(2020, 1, 1), is_active=False)
    Symptom.objects.filter(code="fatigue").update(is_active=False)
    settings = RiskSettings.current()
    settings.observation_days = 21
    settings.save()
    cfg = rules_config()
    names = [a.name for a in cfg.areas]
    assert "湖北省" in names and "旧区" not in names
    assert "fatigue" not in cfg.symptoms and cfg.symptoms["fever"] == "发热"
    assert cfg.observation_days == 21
    # An inactive area proposes nothing.
    p = rules_evaluate(
        declared_on=DAY,
        temperature=T,
        symptoms=[],
        travel=[trip("旧区", D(2020, 2, 10))],
        contacts=[],
        config=cfg,
    )
    assert p.outcome == "cleared"
    p = rules_evaluate(
        declared_on=DAY,
        temperature=T,
        symptoms=[],
        travel=[trip("武汉", D(2020, 2, 10))],
        contacts=[],
        config=cfg,
    )
    assert p.outcome == "home" and "21 days" in p.reason


@pytest.mark.django_db
def test_the_default_symptoms_and_settings_are_migrated():
    codes = set(Symptom.objects.values_list("code", flat=True))
    assert {
        "fever",
        "dry_cough",
        "fatigue",
        "sore_throat",
        "shortness_of_breath",
        "diarrhoea",
        "loss_of_smell_or_taste",
        "muscle_aches",
    } <= codes
    s = RiskSettings.current()
    assert (s.observation_days, s.fever_threshold) == (14, Decimal("37.3"))
    assert RiskSettings.objects.count() == 1
