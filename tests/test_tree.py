import pytest

from fangyi.core.errors import DomainError
from fangyi.core.models import AuditEntry, Node, path_upper, subtree_q
from fangyi.core.services import node_create, node_move, node_update
from fangyi.people.models import Household, Person
from tests.conftest import node

pytestmark = pytest.mark.django_db


def test_a_subtree_is_one_range_query(django_assert_num_queries):
    station = node("五里亭派出所")
    with django_assert_num_queries(1):
        names = set(station.subtree().values_list("name", flat=True))
    assert {"五里亭派出所", "机务社区", "机务小区", "南铁北四区", "北大路沿街"} <= names
    assert "北湖小区" not in names
    assert "青秀区" not in names


def test_path_upper_bounds_the_subtree_only():
    station = node("五里亭派出所")
    upper = path_upper(station.path)
    sibling = node("北湖派出所")
    assert station.path < upper
    assert not (station.path <= sibling.path < upper)


def test_records_are_found_by_their_nodes_subtree(jiwu):
    community = node("机务社区")
    in_community = Household.objects.filter(subtree_q(community.path, "node__path"))
    assert in_community.filter(node=jiwu).exists()
    assert not in_community.filter(node__name="南铁北四区").exists()


def test_moving_a_node_keeps_its_subtree(admin):
    grid = node("机务第一网格")
    compound = node("机务小区")
    households_before = Household.objects.filter(node=compound).count()
    target = node("北湖社区")
    node_move(actor=admin, node=grid, new_parent=target)
    grid.refresh_from_db()
    compound.refresh_from_db()
    assert grid.parent == target
    assert grid.path.startswith(target.path)
    assert compound.path.startswith(grid.path)
    assert compound.depth == grid.depth + 1
    assert [a.name for a in compound.ancestors()][:4] == [
        "南宁市",
        "西乡塘区",
        "北湖派出所",
        "北湖社区",
    ]
    # The households and persons under the compound now count for the new station.
    beihu = node("北湖派出所")
    assert (
        Household.objects.filter(subtree_q(beihu.path, "node__path"), node=compound).count()
        == households_before
    )
    assert Person.objects.filter(subtree_q(beihu.path, "node__path"), node=compound).exists()
    assert AuditEntry.objects.filter(action="fangyi.node.moved", object_id=grid.pk).exists()


def test_it_refuses_to_move_a_node_inside_itself(admin):
    community = node("机务社区")
    with pytest.raises(DomainError) as exc:
        node_move(actor=admin, node=community, new_parent=node("机务第一网格"))
    assert "parent" in exc.value.errors


def test_it_refuses_a_child_of_the_wrong_kind(admin):
    with pytest.raises(DomainError) as exc:
        node_create(actor=admin, kind="compound", name="错层", parent=node("五里亭派出所"))
    assert "kind" in exc.value.errors
    with pytest.raises(DomainError):
        node_move(actor=admin, node=node("机务小区"), new_parent=node("五里亭派出所"))


def test_it_creates_and_renames_with_audit(admin):
    grid = node_create(actor=admin, kind="grid", name="机务第三网格", parent=node("机务社区"))
    assert grid.path.startswith(node("机务社区").path)
    assert len(grid.path) == len(node("机务社区").path) + 8
    node_update(actor=admin, node=grid, name="机务三网格")
    entries = AuditEntry.objects.filter(object_type="node", object_id=grid.pk).order_by("id")
    assert [e.action for e in entries] == ["fangyi.node.created", "fangyi.node.changed"]
    assert entries[1].changes["name"] == ["机务第三网格", "机务三网格"]


def test_admin_edits_the_tree_in_the_ui(admin, as_user):
    client = as_user(admin)
    community = node("机务社区")
    r = client.post(
        f"/jurisdictions/{community.pk}/",
        {"action": "child", "child-name": "机务第三网格", "child-kind": "grid", "child-code": ""},
    )
    assert r.status_code == 302
    grid = Node.objects.get(name="机务第三网格")
    assert grid.parent == community
    r = client.post(
        f"/jurisdictions/{grid.pk}/", {"action": "move", "move-parent": node("南铁社区").pk}
    )
    assert r.status_code == 302
    grid.refresh_from_db()
    assert grid.parent.name == "南铁社区"
    r = client.post(f"/jurisdictions/{grid.pk}/", {"action": "move", "move-parent": grid.pk})
    assert r.status_code == 200
    assert 'class="errorlist"' in r.content.decode()
    grid.refresh_from_db()
    assert grid.parent.name == "南铁社区"
