"""Pages of the people registry. Thin: forms in, services and selectors do the work."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fangyi.core import access
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.validators import parse_resident_id
from fangyi.core.web import form_add_domain_error, staff_view
from fangyi.health.services import id_region_signal

from . import selectors, services
from .forms import HouseholdForm, MergeForm, PersonForm, PlaceForm
from .models import IdType, Sex
from .selectors import person_search_q

PAGE_SIZE = 30


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


# --- persons ---------------------------------------------------------------------------------


@staff_view
def person_list(request):
    access.require(request.user, "person.view")
    q = request.GET.get("q", "").strip()
    if q and len(q.replace(" ", "")) in (15, 18) and q[:-1].isdigit():
        # A whole ID number opens that person straight away.
        person = selectors.person_by_document(request.user, q)
        if person is not None:
            return redirect("person_detail", pk=person.pk)
    qs = selectors.person_list(request.user, q=q) if q else selectors.person_list(request.user)
    page = _page(request, qs)
    template = "people/_person_rows.html" if request.htmx else "people/person_list.html"
    return render(
        request, template, {"page": page, "q": q, "searched": person_search_q(q) is not None}
    )


def _person_input(request, form: PersonForm) -> services.PersonInput:
    cd = form.cleaned_data
    household = None
    if cd.get("household"):
        try:
            household = selectors.household_get(request.user, cd["household"])
        except NotFound:
            raise DomainError(_("This household is not one of yours."), field="node") from None
    return services.PersonInput(
        name=cd["name"],
        id_type=cd["id_type"],
        id_number=cd["id_number"],
        sex=cd["sex"],
        birth_date=cd["birth_date"],
        phone=cd["phone"],
        household=household,
        node=cd["node"],
        relation=cd["relation"],
        notes=cd["notes"],
        client_id=cd.get("client_id"),
    )


@staff_view
@require_http_methods(["GET", "POST"])
def person_create(request):
    access.require(request.user, "person.edit")
    household = None
    hid = request.GET.get("household") or request.POST.get("household") or ""
    if hid.isdigit():
        try:
            household = selectors.household_get(request.user, int(hid))
        except NotFound:
            household = None  # the form then says so on the field
    duplicates = []
    if request.method == "POST":
        form = PersonForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                person = services.person_create(
                    actor=request.user,
                    data=_person_input(request, form),
                    allow_duplicates=form.cleaned_data["confirm_new"],
                )
                messages.success(request, _("Saved %(name)s.") % {"name": person.name})
                return redirect("person_detail", pk=person.pk)
            except services.DuplicatesFound as exc:
                duplicates = exc.persons
            except DomainError as exc:
                form_add_domain_error(form, exc)
                if existing := exc.details.get("person_id"):
                    form.existing_url = reverse("person_detail", args=[existing])
    else:
        form = PersonForm(
            user=request.user, initial={"household": household.pk if household else None}
        )
    return render(
        request,
        "people/person_form.html",
        {"form": form, "household": household, "duplicates": duplicates, "creating": True},
    )


@staff_view
def person_check_id(request):
    """HTMX: as the ID number is typed, say whether it is valid and whether it is known."""
    access.require(request.user, "person.view")
    number = request.GET.get("id_number", "").strip()
    context = {"number": number}
    if number and request.GET.get("id_type", "resident") == "resident":
        try:
            rid = parse_resident_id(number)
            context["rid"] = rid
            context["sex_label"] = Sex(rid.sex).label
            context["existing"] = selectors.person_by_document(request.user, rid.number)
        except DomainError as exc:
            context["error"] = exc.message
    return render(request, "people/_id_check.html", context)


@staff_view
def person_detail(request, pk: int):
    person = selectors.person_get(request.user, pk, via="ui")
    members = (
        selectors.person_list(request.user, household=person.household).exclude(pk=person.pk)
        if person.household_id
        else []
    )
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            "members": members,
            "history": selectors.record_history(request.user, person)[:20],
            "ancestors": person.node.ancestors(),
            "id_signal": (
                id_region_signal(person.id_number) if person.id_type == IdType.RESIDENT else None
            ),
        },
    )


@staff_view
@require_http_methods(["GET", "POST"])
def person_edit(request, pk: int):
    person = selectors.person_get(request.user, pk)
    access.require(request.user, "person.edit")
    if request.method == "POST":
        form = PersonForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                data = _person_input(request, form)
                data.client_id = None
                services.person_update(actor=request.user, person=person, data=data)
                messages.success(request, _("Saved %(name)s.") % {"name": person.name})
                return redirect("person_detail", pk=person.pk)
            except DomainError as exc:
                form_add_domain_error(form, exc)
    else:
        form = PersonForm(
            user=request.user,
            initial={
                "name": person.name,
                "id_type": person.id_type,
                "id_number": person.id_number,
                "sex": person.sex,
                "birth_date": person.birth_date,
                "phone": person.phone,
                "household": person.household_id,
                "node": person.node_id,
                "relation": person.relation,
                "notes": person.notes,
                "client_id": "",
            },
        )
    return render(
        request,
        "people/person_form.html",
        {"form": form, "person": person, "household": person.household, "creating": False},
    )


@staff_view
@require_http_methods(["GET", "POST"])
def person_merge(request, pk: int):
    access.require(request.user, "person.merge")
    keep = selectors.person_get(request.user, pk)
    other = None
    if request.method == "POST":
        form = MergeForm(request.POST)
        if form.is_valid():
            try:
                other = selectors.person_get(request.user, form.cleaned_data["other"])
                services.person_merge(actor=request.user, keep=keep, remove=other)
                messages.success(request, _("Merged into %(name)s.") % {"name": keep.name})
                return redirect("person_detail", pk=keep.pk)
            except NotFound:
                form.add_error("other", _("No such person."))
            except DomainError as exc:
                form_add_domain_error(form, exc)
    else:
        form = MergeForm(initial={"other": request.GET.get("other")})
        if request.GET.get("other", "").isdigit():
            try:
                other = selectors.person_get(request.user, int(request.GET["other"]))
            except NotFound:
                other = None
    candidates = services.person_duplicates(
        request.user,
        name=keep.name,
        birth_date=keep.birth_date,
        phone=keep.phone,
        exclude_pk=keep.pk,
    )
    return render(
        request,
        "people/person_merge.html",
        {"person": keep, "form": form, "other": other, "candidates": candidates},
    )


@staff_view
@require_http_methods(["POST"])
def person_delete(request, pk: int):
    person = selectors.person_get(request.user, pk)
    services.person_delete(actor=request.user, person=person)
    messages.success(request, _("Deleted."))
    return redirect("person_list")


@staff_view
def person_history(request, pk: int):
    person = selectors.person_get(request.user, pk)
    page = _page(request, selectors.record_history(request.user, person))
    return render(
        request,
        "people/history.html",
        {"object": person, "page": page, "back": reverse("person_detail", args=[pk])},
    )


# --- households ------------------------------------------------------------------------------


@staff_view
def household_list(request):
    access.require(request.user, "household.view")
    q = request.GET.get("q", "").strip()
    page = _page(request, selectors.household_list(request.user, q=q))
    return render(request, "people/household_list.html", {"page": page, "q": q})


@staff_view
def household_detail(request, pk: int):
    household = selectors.household_get(request.user, pk, via="ui")
    return render(
        request,
        "people/household_detail.html",
        {
            "household": household,
            "members": selectors.person_list(request.user, household=household),
            "history": selectors.record_history(request.user, household)[:20],
            "ancestors": household.node.ancestors(),
        },
    )


@staff_view
@require_http_methods(["GET", "POST"])
def household_form(request, pk: int | None = None):
    access.require(request.user, "household.edit")
    household = selectors.household_get(request.user, pk) if pk else None
    if request.method == "POST":
        form = HouseholdForm(request.POST, user=request.user)
        if form.is_valid():
            cd = form.cleaned_data
            try:
                if household is None:
                    household = services.household_create(
                        actor=request.user,
                        node=cd["node"],
                        address=cd["address"],
                        notes=cd["notes"],
                        client_id=cd.get("client_id"),
                    )
                else:
                    services.household_update(
                        actor=request.user,
                        household=household,
                        node=cd["node"],
                        address=cd["address"],
                        notes=cd["notes"],
                    )
                messages.success(request, _("Saved."))
                return redirect("household_detail", pk=household.pk)
            except DomainError as exc:
                form_add_domain_error(form, exc)
    else:
        initial = (
            {"node": household.node_id, "address": household.address, "notes": household.notes}
            if household
            else {}
        )
        form = HouseholdForm(user=request.user, initial=initial)
    return render(request, "people/household_form.html", {"form": form, "household": household})


@staff_view
@require_http_methods(["POST"])
def household_delete(request, pk: int):
    household = selectors.household_get(request.user, pk)
    try:
        services.household_delete(actor=request.user, household=household)
    except DomainError as exc:
        if exc.status != 400:
            raise
        messages.error(request, exc.message)
        return redirect("household_detail", pk=pk)
    messages.success(request, _("Deleted."))
    return redirect("household_list")


@staff_view
def household_history(request, pk: int):
    household = selectors.household_get(request.user, pk)
    page = _page(request, selectors.record_history(request.user, household))
    return render(
        request,
        "people/history.html",
        {"object": household, "page": page, "back": reverse("household_detail", args=[pk])},
    )


# --- places ----------------------------------------------------------------------------------


@staff_view
def place_list(request):
    access.require(request.user, "place.view")
    return render(
        request,
        "people/place_list.html",
        {"places": selectors.place_list(request.user, kind=request.GET.get("kind", ""))},
    )


@staff_view
def place_detail(request, pk: int):
    place = selectors.place_get(request.user, pk)
    return render(
        request,
        "people/place_detail.html",
        {"place": place, "history": selectors.record_history(request.user, place)[:20]},
    )


@staff_view
@require_http_methods(["GET", "POST"])
def place_form(request, pk: int | None = None):
    access.require(request.user, "place.edit")
    place = selectors.place_get(request.user, pk) if pk else None
    if request.method == "POST":
        form = PlaceForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                if place is None:
                    place = services.place_create(actor=request.user, data=form.cleaned_data)
                else:
                    services.place_update(actor=request.user, place=place, data=form.cleaned_data)
                messages.success(request, _("Saved."))
                return redirect("place_detail", pk=place.pk)
            except DomainError as exc:
                form_add_domain_error(form, exc)
    else:
        initial = (
            {
                f: getattr(place, f)
                for f in ("kind", "name", "address", "phone", "capacity", "notes", "is_active")
            }
            if place
            else {}
        )
        if place:
            initial["node"] = place.node_id
        form = PlaceForm(user=request.user, initial=initial)
    return render(request, "people/place_form.html", {"form": form, "place": place})
