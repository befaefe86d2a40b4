"""Pages of fangyi.enforcement. Thin: forms in, services and selectors do the work.

Only police roles and supervisors (enforcement.view) open records, photos and the panels;
everyone else gets 403. Legal bases are configured by administrators."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.photos import MAX_PER_SUBMISSION, photo_response
from fangyi.core.scoping import scoped_get
from fangyi.core.web import form_add_domain_error, staff_view
from fangyi.patrols import selectors as patrol_selectors
from fangyi.patrols import services as patrol_services
from fangyi.people.selectors import person_get, person_list, person_search_q, persons_visible
from fangyi.tips.models import Tip

from . import selectors, services
from .forms import FollowupForm, LegalBasisForm, RecordForm
from .models import LegalBasis, Measure

PAGE_SIZE = 30
SEARCH_LIMIT = 8
FOLLOWUP_FILTERS = [
    ("", gettext_lazy("All")),
    ("due", gettext_lazy("Follow-up due")),
    ("open", gettext_lazy("Follow-up planned")),
    ("done", gettext_lazy("Follow-up done")),
]


def _int(raw) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 12 else None


# --- records ---------------------------------------------------------------------------------


@staff_view
def record_list(request):
    user = request.user
    access.require(user, "enforcement.view")
    measure = request.GET.get("measure", "")
    if measure not in Measure.values:
        measure = ""
    followup = request.GET.get("followup", "")
    if followup not in dict(FOLLOWUP_FILTERS):
        followup = ""
    qs = selectors.record_list(user, measure=measure, followup=followup).prefetch_related(
        "officers"
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "enforcement/record_list.html",
        {
            "page": page,
            "measure": measure,
            "followup": followup,
            "measures": Measure.choices,
            "filters": FOLLOWUP_FILTERS,
            "today": timezone.localdate(),
        },
    )


def _subject(request, source) -> tuple:
    """The tip and person a form is about, from ?tip= / ?person= or the posted fields; one
    outside the user's jurisdiction is not found, like one that does not exist."""
    tip_id, person_id = _int(source.get("tip")), _int(source.get("person"))
    if source.get("tip") and tip_id is None or source.get("person") and person_id is None:
        raise NotFound(_("No such record."))
    tip = services.tip_for(request.user, tip_id)
    person = services.person_for(request.user, person_id)
    return tip, person


def _form_context(request, form, tip, person) -> dict:
    user = request.user
    node = tip.node if tip is not None else (person.node if person is not None else None)
    # The people picked so far, in the order picked: those the user may see.
    if form.is_bound:
        raw = form.data.getlist("persons")
        ids = [int(v) for v in raw if str(v).isdigit() and len(str(v)) <= 12]
    else:
        ids = [person.pk] if person is not None else []
    found = persons_visible(user, ids)
    picked = [found[i] for i in dict.fromkeys(ids) if i in found]
    if node is None and picked:
        node = picked[0].node
    choices = services.officer_choices(node, user)
    if form.is_bound:
        chosen = {int(v) for v in form.data.getlist("officers") if str(v).isdigit()}
    else:
        chosen = {user.pk}
    bases = list(form.fields["legal_bases"].queryset)
    if form.is_bound:
        checked = {int(v) for v in form.data.getlist("legal_bases") if str(v).isdigit()}
    else:
        checked = set()
    return {
        "form": form,
        "tip": tip,
        "person": person,
        "picked": picked,
        "officers": [(u, u.pk in chosen) for u in choices],
        "bases": [(b, b.pk in checked) for b in bases],
        "measures": Measure.choices,
        "max_photos": MAX_PER_SUBMISSION,
        "today": timezone.localdate(),
    }


@staff_view
@require_http_methods(["GET", "POST"])
def record_create(request):
    """A new record, made for a phone: ?tip=<pk> and/or ?person=<pk> say what it is about."""
    user = request.user
    access.require(user, "enforcement.record")
    status = 200
    if request.method == "POST":
        posted = "tip" in request.POST or "person" in request.POST
        tip, person = _subject(request, request.POST if posted else request.GET)
        form = RecordForm(request.POST)
        if form.is_valid():
            cd = form.cleaned_data
            photos = request.FILES.getlist("photos")
            try:
                persons = services.persons_for(user, cd["persons"])
                data = services.EnforcementInput(
                    tip=tip,
                    # Without a tip or a person, the record is about the first person picked.
                    person=person or (persons[0] if tip is None and persons else None),
                    measure=cd["measure"],
                    at=cd["at"],
                    location=cd["location"],
                    legal_bases=list(cd["legal_bases"]),
                    persons=persons,
                    described_people=cd["described_people"],
                    statements=cd["statements"],
                    facts=cd["facts"],
                    officers=services.officers_for(cd["officers"]),
                    followup_on=cd["followup_on"],
                )
                record = services.enforcement_record(
                    actor=user, data=data, photos=photos, client_id=cd.get("client_id")
                )
                if _from_patrol_event(request, tip):
                    event = patrol_selectors.event_get(user, int(request.GET["patrol_event"]))
                    patrol_services.event_enforcement_linked(actor=user, event=event, record=record)
                messages.success(request, _("Enforcement record saved."))
                return redirect("enforcement_detail", pk=record.pk)
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = exc.status
        else:
            status = 400
        if request.FILES:
            form.add_error(
                "photos", _("Choose the photos again: a form sent back does not keep them.")
            )
    else:
        tip, person = _subject(request, request.GET)
        initial = {"at": timezone.localtime().replace(second=0, microsecond=0)}
        if tip is not None:
            initial["location"] = tip.address or tip.node.name
        initial.update(_from_patrol_event(request, tip))
        form = RecordForm(initial=initial)
    return render(
        request,
        "enforcement/record_form.html",
        _form_context(request, form, tip, person),
        status=200 if request.htmx else status,
    )


def _from_patrol_event(request, tip) -> dict:
    """?patrol_event=<pk> (the one tap from a refused gathering on patrol): the form starts
    with what the event recorded. Only an event whose tip is this tip is read."""
    raw = request.GET.get("patrol_event", "")
    if tip is None or not raw.isdigit() or len(raw) > 12:
        return {}
    try:
        event = patrol_selectors.event_get(request.user, int(raw))
    except DomainError:
        return {}
    if event.tip_id != tip.pk:
        return {}
    described = _("%(n)d people") % {"n": event.people} if event.people else ""
    return {
        "at": timezone.localtime(event.at).replace(second=0, microsecond=0),
        "measure": "education",
        "described_people": described,
        "statements": event.statements,
        "facts": patrol_services.event_words(event),
    }


@staff_view
def person_search(request):
    """The record form's search box (HTMX): registry persons to add to the people involved."""

    user = request.user
    access.require(user, "enforcement.record")
    q = request.GET.get("q", "").strip()[:50]
    people = []
    if person_search_q(q) is not None:
        people = list(person_list(user, q=q)[:SEARCH_LIMIT])
    return render(request, "enforcement/_person_search.html", {"people": people, "q": q})


def _detail_context(request, record, form=None) -> dict:
    return {
        "record": record,
        **selectors.record_detail(record),
        "form": form or FollowupForm(),
        "can_follow_up": services.can_follow_up(request.user, record)
        and record.followup_done_at is None,
        "today": timezone.localdate(),
    }


@staff_view
def record_detail(request, pk: int):
    record = selectors.record_get(request.user, pk, via="ui")
    return render(request, "enforcement/record_detail.html", _detail_context(request, record))


@staff_view
@require_POST
def record_followup(request, pk: int):
    user = request.user
    access.require(user, "enforcement.record")
    record = selectors.record_get(user, pk)
    form = FollowupForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.enforcement_followup(
                actor=user, record=record, notes=form.cleaned_data["notes"]
            )
            messages.success(request, _("Follow-up check recorded."))
            return redirect("enforcement_detail", pk=pk)
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            if exc.status == 403:
                raise
            form_add_domain_error(form, exc)
            status = exc.status
    # The page comes back with the record: a read like the GET's.
    access_record(user, record, node_path=record.node.path, via="ui")
    return render(
        request,
        "enforcement/record_detail.html",
        _detail_context(request, record, form),
        status=status,
    )


@staff_view
def photo(request, pk: int):
    """An evidence photo, to police roles and supervisors whose jurisdiction holds the place."""
    item = selectors.photo_get(request.user, pk, via="ui")
    return photo_response(item)


# --- panels ----------------------------------------------------------------------------------


@staff_view
def tip_panel(request, pk: int):
    """The tip page's panel (HTMX): the tip's records and "Record enforcement"."""

    user = request.user
    access.require(user, "enforcement.view")
    try:
        tip = scoped_get(Tip, user, pk, related=("node",))
    except NotFound:
        raise Http404 from None
    records = list(selectors.record_list(user, tip=tip).prefetch_related("officers"))
    access_record(user, tip, node_path=tip.node.path, via="panel")
    return render(
        request,
        "enforcement/_panel.html",
        {
            "records": records,
            "new_url": f"/enforcement/new/?tip={tip.pk}",
            "today": timezone.localdate(),
        },
    )


@staff_view
def person_panel(request, pk: int):
    """The person page's panel (HTMX): records about the person or naming them."""

    user = request.user
    access.require(user, "enforcement.view")
    person = person_get(user, pk)
    records = list(selectors.record_list(user, person=person).prefetch_related("officers"))
    access_record(user, person, node_path=person.node.path, via="panel")
    return render(
        request,
        "enforcement/_panel.html",
        {
            "records": records,
            "new_url": f"/enforcement/new/?person={person.pk}",
            "today": timezone.localdate(),
        },
    )


# --- legal bases (administrators) --------------------------------------------------------------


@staff_view
def basis_list(request):
    access.require(request.user, "legalbasis.configure")
    return render(
        request, "enforcement/basis_list.html", {"bases": list(selectors.legalbasis_list())}
    )


def _basis_initial(basis: LegalBasis) -> dict:
    return {name: getattr(basis, name) for name in services.BASIS_FIELDS}


@staff_view
@require_http_methods(["GET", "POST"])
def basis_form(request, pk: int | None = None):
    user = request.user
    access.require(user, "legalbasis.configure")
    basis = selectors.legalbasis_get(user, pk) if pk is not None else None
    status = 200
    if request.method == "POST":
        form = LegalBasisForm(request.POST)
        if form.is_valid():
            try:
                saved = services.legalbasis_save(actor=user, data=form.cleaned_data, basis=basis)
                messages.success(request, _("Saved: %(title)s") % {"title": saved.title})
                return redirect("legalbasis_list")
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = exc.status
        else:
            status = 400
    else:
        form = LegalBasisForm(initial=_basis_initial(basis) if basis else None)
    return render(
        request, "enforcement/basis_form.html", {"form": form, "basis": basis}, status=status
    )
