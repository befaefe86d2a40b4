"""Pages of the duty posts: the posts, a post with its shifts, the post form, the shift log on
a phone (big + buttons that count in place with HTMX and by a plain form POST without script),
registering a person found at the post with a declaration, and the handover.

Thin: the forms (here: the layer check allows forms only in edge modules) parse, the services
of fangyi.patrols.posts decide, the selectors there read."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from fangyi.core import access
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.models import Node
from fangyi.core.web import NodeChoiceField, form_add_domain_error, form_submit, staff_view
from fangyi.health import services as health
from fangyi.health.forms import DeclarationForm
from fangyi.health.models import Outcome
from fangyi.health.views import CONTACT_KEYS, TRAVEL_KEYS, _form_context, _rows
from fangyi.people.models import IdType, Sex
from fangyi.people.selectors import person_get, person_list, person_search_q
from fangyi.people.services import PersonInput

from . import posts
from .models import DutyPost, DutyShift, PostKind, Tally

PAGE_SIZE = 30
SEARCH_LIMIT = 8
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
# Days of shifts a post's page shows ahead.
AHEAD_DAYS = 7


# --- forms -----------------------------------------------------------------------------------


class _WithClientId(forms.Form):
    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("client_id"):
            self.initial["client_id"] = uuid.uuid4()


class PostForm(forms.Form):
    # An id, looked up in the user's jurisdiction by the page: one not yours answers 404, as
    # one that does not exist does. The select offers the user's communities to compounds.
    node = forms.IntegerField(label=gettext_lazy("Where"), min_value=1, widget=forms.Select)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=PostKind.choices)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=200, required=False)
    latitude = forms.CharField(
        label=gettext_lazy("Latitude"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "22.8362"}),
    )
    longitude = forms.CharField(
        label=gettext_lazy("Longitude"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "108.2846"}),
    )
    staffed_from = forms.TimeField(label=gettext_lazy("Staffed from"), widget=TIME)
    staffed_to = forms.TimeField(
        label=gettext_lazy("Staffed until"),
        widget=TIME,
        help_text=gettext_lazy("Earlier than the start: over midnight. The same: round the clock."),
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        label = NodeChoiceField(queryset=Node.objects.none()).label_from_instance
        nodes = access.nodes_visible(user).filter(kind__in=posts.POST_NODE_KINDS).order_by("path")
        self.fields["node"].widget.choices = [("", "—")] + [(n.pk, label(n)) for n in nodes]


class ShiftForm(_WithClientId):
    starts = forms.DateTimeField(
        label=gettext_lazy("From"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    ends = forms.DateTimeField(
        label=gettext_lazy("Until"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    staff = forms.MultipleChoiceField(
        label=gettext_lazy("On duty"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [(str(u.pk), u.display_name) for u in choices]


class TallyForm(forms.Form):
    kind = forms.ChoiceField(choices=Tally.choices)
    delta = forms.IntegerField(label=gettext_lazy("How many"), initial=1)
    client_id = forms.UUIDField(required=False)


class HandoverForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Handover note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("What the next shift must know: materials, people to watch."),
    )
    next_shift = forms.TypedChoiceField(
        label=gettext_lazy("Next shift"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, later, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["next_shift"].choices = [("", "—")] + [
            (
                s.pk,
                f"{timezone.localtime(s.starts):%m-%d %H:%M}–{timezone.localtime(s.ends):%H:%M}",
            )
            for s in later
        ]


class RegistrationForm(DeclarationForm):
    """The person (picked from the registry, or a new one's few fields) and the declaration."""

    person = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50, required=False)
    id_type = forms.ChoiceField(
        label=gettext_lazy("Document"),
        choices=IdType.choices,
        initial=IdType.RESIDENT,
        required=False,
    )
    id_number = forms.CharField(
        label=gettext_lazy("Document number"), max_length=40, required=False
    )
    sex = forms.ChoiceField(
        label=gettext_lazy("Sex"), choices=[("", "—"), *Sex.choices], required=False
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )


# --- helpers ---------------------------------------------------------------------------------


def _post_input(user, cd: dict) -> posts.PostInput:
    try:
        node = access.node_get(user, cd["node"])
    except NotFound:
        raise NotFound(_("This jurisdiction is not one of yours."), field="node") from None
    return posts.PostInput(
        node=node,
        name=cd["name"],
        kind=cd["kind"],
        address=cd["address"],
        latitude=cd["latitude"] or None,
        longitude=cd["longitude"] or None,
        staffed_from=cd["staffed_from"],
        staffed_to=cd["staffed_to"],
        active=cd["active"],
    )


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tz)
    return start, start + dt.timedelta(days=1)


def _shift_form(post: DutyPost, data=None) -> ShiftForm:
    now = timezone.localtime().replace(second=0, microsecond=0)
    start = now.replace(minute=0) + dt.timedelta(hours=1)
    return ShiftForm(
        data,
        choices=posts.staff_choices(post),
        initial={"starts": start, "ends": start + dt.timedelta(hours=6)},
    )


# --- posts -----------------------------------------------------------------------------------


@staff_view
def post_list(request):
    """The posts in the user's jurisdiction, each with who is on duty now."""
    user = request.user
    qs = posts.post_list(user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "patrols/post_list.html",
        {"page": page, "states": posts.posts_state(list(page), timezone.now())},
    )


@staff_view
@require_http_methods(["GET", "POST"])
def post_form(request, pk: int | None = None):
    """A new post (pk None) or a change to one: supervisors."""
    user = request.user
    access.require(user, "post.manage")
    post = posts.post_get(user, pk) if pk is not None else None
    status = 200
    if request.method == "POST":
        form = PostForm(request.POST, user=user)

        def save(cd):
            if post is None:
                return posts.post_create(actor=user, data=_post_input(user, cd))
            return posts.post_update(actor=user, post=post, data=_post_input(user, cd))

        saved, status = form_submit(form, save)
        if saved is not None:
            messages.success(request, _("Saved: %(name)s") % {"name": saved.name})
            return redirect("post_detail", pk=saved.pk)
    else:
        initial = {"staffed_from": dt.time(7, 0), "staffed_to": dt.time(22, 0), "active": True}
        if post is not None:
            initial = {f: getattr(post, f) for f in posts.POST_FIELDS}
            initial["node"] = post.node_id
        else:
            raw = request.GET.get("node", "")
            if raw.isdigit() and len(raw) <= 12:
                initial["node"] = int(raw)
        form = PostForm(initial=initial, user=user)
    return render(request, "patrols/post_form.html", {"form": form, "post": post}, status=status)


def _post_context(request, post: DutyPost, form: ShiftForm | None = None) -> dict:
    user = request.user
    today = timezone.localdate()
    start, _end = _day_bounds(today)
    shifts = list(
        posts.shift_list(
            user, post=post, since=start, until=start + dt.timedelta(days=AHEAD_DAYS)
        ).prefetch_related("staff")
    )
    now = timezone.now()
    manage = access.can(user, "post.manage")
    return {
        "post": post,
        "state": posts.posts_state([post], now)[0],
        "shifts": [
            (s, sorted(s.staff.all(), key=lambda u: u.username), posts.is_unstaffed(s, now))
            for s in shifts
        ],
        "form": form if form is not None else (_shift_form(post) if manage else None),
        "now": now,
    }


@staff_view
def post_detail(request, pk: int):
    """A post: who is on duty now, its shifts today and the coming days, and (supervisors)
    the form to plan one."""
    post = posts.post_get(request.user, pk)
    return render(request, "patrols/post_detail.html", _post_context(request, post))


@staff_view
@require_http_methods(["GET", "POST"])
def shift_create(request, pk: int):
    """Plan a shift at the post (supervisors); the post's page holds the same form."""
    user = request.user
    access.require(user, "post.manage")
    post = posts.post_get(user, pk)
    if request.method == "POST":
        form = _shift_form(post, request.POST)

        def plan(cd):
            return posts.shift_plan(
                actor=user,
                post=post,
                starts=cd["starts"],
                ends=cd["ends"],
                staff=posts.staff_for(post, [int(v) for v in cd["staff"]]),
                client_id=cd.get("client_id"),
            )

        made, status = form_submit(form, plan)
        if made is not None:
            messages.success(request, _("Shift planned."))
            return redirect("post_detail", pk=post.pk)
        return render(
            request, "patrols/post_detail.html", _post_context(request, post, form), status=status
        )
    return render(request, "patrols/shift_form.html", {"post": post, "form": _shift_form(post)})


# --- the shift log ---------------------------------------------------------------------------


def _counters(shift: DutyShift, counts: dict[str, int], can_record: bool) -> list[dict]:
    return [
        {
            "kind": kind,
            "label": label,
            "count": counts.get(kind, 0),
            "client_id": uuid.uuid4(),
            "minus_id": uuid.uuid4(),
            "can_record": can_record,
            "shift": shift,
        }
        for kind, label in Tally.choices
    ]


def _shift_context(request, shift: DutyShift) -> dict:
    user = request.user
    staff = posts.shift_staff(shift)
    on_it = any(u.pk == user.pk for u in staff)
    open_ = shift.taken_at is not None and shift.ended_at is None
    can_record = access.can(user, "shift.record") and open_ and (on_it or user.role == "supervisor")
    now = timezone.now()
    return {
        "shift": shift,
        "post": shift.post,
        "staff": staff,
        "on_it": on_it,
        "can_record": can_record,
        "can_take": access.can(user, "shift.record")
        and shift.ended_at is None
        and shift.starts - posts.TAKE_EARLY <= now < shift.ends
        and not (on_it and shift.taken_at is not None),
        "take_from": shift.starts - posts.TAKE_EARLY
        if now < shift.starts - posts.TAKE_EARLY
        else None,
        "counters": _counters(shift, posts.shift_counts(shift), can_record),
        "registrations": posts.shift_registrations(shift, user, via="ui")
        if access.can(user, "person.view")
        else [],
        "before": posts.handed_over_before(shift),
        "unstaffed": posts.is_unstaffed(shift, now, staffed=bool(staff)),
        "tally_form": TallyForm(initial={"kind": Tally.PERSONS, "delta": 1}),
        "typed_id": uuid.uuid4(),
    }


@staff_view
def shift_detail(request, pk: int):
    """The shift log on a phone: check in, the counters with big + buttons, the people
    registered with the rules' proposal, the handover."""
    shift = posts.shift_get(request.user, pk)
    return render(request, "patrols/shift_detail.html", _shift_context(request, shift))


@staff_view
@require_POST
def shift_take(request, pk: int):
    user = request.user
    access.require(user, "shift.record")
    shift = posts.shift_get(user, pk)
    try:
        posts.shift_take(actor=user, shift=shift)
        messages.success(request, _("You are on duty."))
    except DomainError as exc:
        if isinstance(exc, NotFound) or exc.status == 403:
            raise
        messages.error(request, exc.message)
        return render(
            request, "patrols/shift_detail.html", _shift_context(request, shift), status=exc.status
        )
    return redirect("shift_detail", pk=pk)


@staff_view
@require_POST
def shift_tally(request, pk: int):
    """One tap on a counter. With HTMX the counter comes back (its count updated, or the
    reason it was refused); without script, the shift page."""
    user = request.user
    access.require(user, "shift.record")
    shift = posts.shift_get(user, pk)
    form = TallyForm(request.POST)
    error = ""
    status = 200
    kind = request.POST.get("kind", "")
    if form.is_valid():
        cd = form.cleaned_data
        try:
            _tap, counts = posts.shift_tally(
                actor=user,
                shift=shift,
                kind=cd["kind"],
                delta=cd["delta"],
                client_id=cd.get("client_id"),
            )
        except DomainError as exc:
            if isinstance(exc, NotFound) or exc.status == 403:
                raise
            error, status = exc.message, exc.status
            counts = posts.shift_counts(shift)
    else:
        error = str(next(iter(form.errors.values()))[0])
        status = 400
        counts = posts.shift_counts(shift)
    if request.htmx and kind in dict(Tally.choices):
        counter = next(c for c in _counters(shift, counts, True) if c["kind"] == kind)
        counter["error"] = error
        # htmx swaps only successful answers: a refused tap comes back as 200 with its reason.
        return render(request, "patrols/_shift_counter.html", {"c": counter})
    if error:
        messages.error(request, error)
        return render(
            request, "patrols/shift_detail.html", _shift_context(request, shift), status=status
        )
    return redirect(reverse("shift_detail", args=[pk]) + f"#c-{form.cleaned_data['kind']}")


@staff_view
def person_search(request, pk: int):
    """The registration form's search box (HTMX): registry persons to pick."""
    user = request.user
    access.require(user, "shift.record")
    shift = posts.shift_get(user, pk)
    q = request.GET.get("q", "").strip()[:50]
    people = []
    if person_search_q(q) is not None:
        people = list(person_list(user, q=q)[:SEARCH_LIMIT])
    return render(request, "patrols/_shift_people.html", {"people": people, "q": q, "shift": shift})


def _registration_input(form: RegistrationForm, travel, contacts) -> health.DeclarationInput:
    cd = form.cleaned_data
    return health.DeclarationInput(
        declared_on=cd.get("declared_on"),
        temperature=cd.get("temperature") or None,
        temperature_method=cd.get("temperature_method") or "",
        symptoms=list(cd.get("symptoms") or []),
        travel_since=cd.get("travel_since"),
        travel=[dict(r) for r in travel],
        contacts=[dict(r) for r in contacts],
        notes=cd.get("notes") or "",
    )


@staff_view
@require_http_methods(["GET", "POST"])
def shift_register(request, pk: int):
    """A person found at the post: picked from the registry (?person=<pk> or the search) or
    registered with a few fields, and the declaration in the same form. Saved, the shift page
    shows the rules' proposal."""
    user = request.user
    access.require(user, "shift.record")
    access.require(user, "declaration.record")
    shift = posts.shift_get(user, pk)
    config = health.rules_config()
    exc = None
    person = None
    status = 200
    if request.method == "POST":
        form = RegistrationForm(request.POST, symptoms=config.symptoms)
        travel = _rows(request.POST, "travel", TRAVEL_KEYS)
        contacts = _rows(request.POST, "contact", CONTACT_KEYS)
        status = 400
        if form.is_valid():
            cd = form.cleaned_data
            try:
                if cd.get("person"):
                    try:
                        person = person_get(user, cd["person"], via="ui")
                    except NotFound:
                        raise NotFound(_("No such person."), field="person") from None
                new = None
                if person is None and (cd.get("name") or cd.get("id_number")):
                    new = PersonInput(
                        name=cd.get("name") or "",
                        id_type=cd.get("id_type") or IdType.RESIDENT,
                        id_number=cd.get("id_number") or "",
                        sex=cd.get("sex") or "",
                        phone=cd.get("phone") or "",
                    )
                reg = posts.registration_record(
                    actor=user,
                    shift=shift,
                    person=person,
                    new_person=new,
                    declaration=_registration_input(form, travel, contacts),
                    client_id=cd.get("client_id"),
                )
                proposal = reg.declaration.proposal if reg.declaration else ""
                messages.success(
                    request,
                    _("%(name)s registered. The rules propose: %(p)s.")
                    % {"name": reg.person.name, "p": Outcome(proposal).label if proposal else "—"},
                )
                return redirect(reverse("shift_detail", args=[pk]) + f"#reg-{reg.pk}")
            except DomainError as e:
                if e.status == 403:
                    raise
                exc = e
                own = {
                    k: v for k, v in e.errors.items() if not k.startswith(("travel", "contacts"))
                }
                form_add_domain_error(form, DomainError(e.message, errors=own) if own else e)
                status = e.status
    else:
        initial: dict[str, Any] = {
            "declared_on": timezone.localdate(),
            "travel_since": config.travel_since,
        }
        raw = request.GET.get("person", "")
        if raw.isdigit() and len(raw) <= 12:
            person = person_get(user, int(raw), via="ui")
            initial["person"] = person.pk
        form = RegistrationForm(symptoms=config.symptoms, initial=initial)
        travel, contacts = [], []
    q = request.GET.get("q", "").strip()[:50]
    found = []
    if person is None and person_search_q(q) is not None:
        found = list(person_list(user, q=q)[:SEARCH_LIMIT])
    return render(
        request,
        "patrols/shift_register.html",
        {
            "shift": shift,
            "post": shift.post,
            "person": person,
            "q": q,
            "people": found,
            **_form_context(form, travel, contacts, exc),
        },
        status=200 if request.htmx else status,
    )


@staff_view
@require_http_methods(["GET", "POST"])
def shift_handover(request, pk: int):
    """Hand the shift over with a note, optionally naming the next shift at the post."""
    user = request.user
    access.require(user, "shift.record")
    shift = posts.shift_get(user, pk)
    later = [
        s
        for s in posts.shift_list(user, post=shift.post, since=shift.starts)
        if s.pk != shift.pk and s.ended_at is None and s.starts >= shift.starts
    ][:10]
    status = 200
    if request.method == "POST":
        form = HandoverForm(request.POST, later=later)
        by_pk = {s.pk: s for s in later}

        def hand(cd):
            return posts.shift_handover(
                actor=user, shift=shift, note=cd["note"], next_shift=by_pk.get(cd["next_shift"])
            )

        done, status = form_submit(form, hand)
        if done is not None:
            messages.success(request, _("Shift handed over."))
            return redirect("post_detail", pk=shift.post_id)
    else:
        form = HandoverForm(later=later, initial={"next_shift": later[0].pk if later else None})
    return render(
        request,
        "patrols/shift_handover.html",
        {"shift": shift, "post": shift.post, "form": form},
        status=status,
    )
