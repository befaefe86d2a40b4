"""The audit trail reads in the user's language (issue 12, item 17): every action's verb has
words, field names are the models' own, and the system's work is called so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

from fangyi.core.templatetags.fangyi_tags import VERBS, action_label, actor_label, field_label
from fangyi.linkage.services import SUPPORT_STEPS
from fangyi.quarantine.services import PLACEMENT_STEPS
from fangyi.tips.services import TIP_STEPS

ROOT = Path(__file__).resolve().parent.parent / "fangyi"


def _verbs_in_code() -> set[str]:
    found = set()
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for action in re.findall(r'"fangyi\.[a-z_]+\.([a-z_]+)"', path.read_text("utf-8")):
            found.add(action)
    for table in (TIP_STEPS, SUPPORT_STEPS, PLACEMENT_STEPS):
        found |= {step.verb or step.name for step in table.steps.values()}
    return found - {
        "urls",
        "urls_refusals",
        "urls_sites",
        "urls_posts",
        "urls_delivery",
        "site_for_new_place",
    }  # module names


def test_every_verb_of_the_code_has_words():
    assert _verbs_in_code() - set(VERBS) == set()


def test_the_words_are_translated():
    with translation.override("zh-hans"):
        assert action_label("fangyi.tip.on_scene") == "已到场"
        assert actor_label("system") == "系统"
        assert field_label("id_number", "person") == "证件号码"
        assert field_label("due_at", "supportrequest") != "due_at"


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_no_verb_is_left_in_english_in_chinese(verb):
    with translation.override("zh-hans"):
        label = action_label(f"fangyi.x.{verb}")
    assert re.search(r"[\u4e00-\u9fff]", label), (verb, label)
