"""Pages of fangyi.health: the rules, declarations, decisions, the person page's health panel,
and the public self-report page. Thin: forms in, services and selectors do the work."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from fangyi.care import flows
from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.web import form_add_domain_error, staff_view
from fangyi.observation.selectors import observed_now
from fangyi.people import selectors as people
from fangyi.screening.selectors import door_visit_get

from . import selectors, services
from .forms import DecisionForm, DeclarationForm, RiskAreaForm, SettingsForm, SymptomForm
from .models import DeclarationStatus, Outcome, RiskSettings, TempMethod
from .public import daily_path, given_name, link_url

PAGE_SIZE = 30
TRAVEL_KEYS = ("place", "from", "to", "transport")
CONTACT_KEYS = ("kind", "who", "date", "place")


# --- travel and contact rows -----------------------------------------------------------------


def _rows(post, prefix: str, keys: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows posted as parallel lists (travel-place, travel-from, ...); blank rows dropped."""
    columns = {k: post.getlist(f"{prefix}-{k}") for k in keys}
    count = max((len(v) for v in columns.values()), default=0)
    rows = []
    for i in range(count):
        row = {k: (columns[k][i].strip() if i < len(columns[k]) else "") for k in keys}
        meaningful = [v for k, v in row.items() if k != "kind"]
        if any(meaningful):
            rows.append(row)
    return rows


def _row_errors(exc: DomainError | None, prefix: str, count: int) -> list[dict[str, list[str]]]:
    """Per row, {key: messages} from service errors named like travel.0.from."""
    out: list[dict[str, list[str]]] = [{} for _ in range(count)]
    if exc is None:
        return out
    for name, msgs in exc.errors.items():
        parts = name.split(".")
        if parts[0] == prefix and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < count:
            out[int(parts[1])].setdefault(parts[2] if len(parts) > 2 else "place", []).extend(msgs)
    return out


def _declaration_input(form: DeclarationForm, travel, contacts) -> services.DeclarationInput:
    cd = form.cleaned_data
    return services.DeclarationInput(
        declared_on=cd.get("declared_on"),
        temperature=cd.get("temperature") or None,
        temperature_method=cd.get("temperature_method") or "",
        symptoms=list(cd.get("symptoms") or []),
        travel_since=cd.get("travel_since"),
        travel=[dict(r) for r in travel],
        contacts=[dict(r) for r in contacts],
        notes=cd.get("notes") or "",
    )


def _form_context(form, travel, contacts, exc: DomainError | None = None) -> dict[str, Any]:
    travel_errors = _row_errors(exc, "travel", len(travel))
    contact_errors = _row_errors(exc, "contacts", len(contacts))
    general = []
    if exc is not None:
        for name in ("travel", "contacts"):
            general += exc.errors.get(name, [])
    return {
        "form": form,
        "travel": [{"v": r, "e": e} for r, e in zip(travel, travel_errors, strict=True)]
        or [{"v": {}, "e": {}}],
        "contacts": [{"v": r, "e": e} for r, e in zip(contacts, contact_errors, strict=True)],
        "row_errors": general,
        "contact_kinds": [("confirmed", _("Confirmed case")), ("suspected", _("Suspected case"))],
    }


def _apply_errors(form, exc: DomainError) -> None:
    own = {k: v for k, v in exc.errors.items() if not k.startswith(("travel", "contacts"))}
    form_add_domain_error(form, DomainError(exc.message, errors=own) if own else exc)


# --- the rules -------------------------------------------------------------------------------


def _settings_initial(s: RiskSettings) -> dict[str, Any]:
    return {f: getattr(s, f) for f in services.SETTINGS_FIELDS}


@staff_view
@require_http_methods(["GET", "POST"])
def rules(request):
    """Everyone with risk.view reads; administrators edit areas, symptoms and the settings.

    One page: `?area=<pk>|new` and `?symptom=<pk>|new` open an edit form; a POST names its
    form (area, area_delete, symptom, settings) and the record (pk)."""
    user = request.user
    access.require(user, "risk.view")
    editable = access.can(user, "risk.configure")
    area = symptom = None
    area_form = symptom_form = None
    settings = RiskSettings.current()
    settings_form = SettingsForm(initial=_settings_initial(settings)) if editable else None

    if request.method == "POST":
        access.require(user, "risk.configure")
        which = request.POST.get("form", "")
        pk = request.POST.get("pk", "")
        try:
            if which in ("area", "area_delete") and pk.isdigit():
                area = selectors.risk_area_get(user, int(pk))
            if which == "symptom" and pk.isdigit():
                symptom = selectors.symptom_get(user, int(pk))
        except NotFound:
            raise Http404 from None
        if which == "area_delete" and area is not None:
            services.risk_area_delete(actor=user, area=area)
            messages.success(request, _("Deleted."))
            return redirect("rules")
        form = {"area": RiskAreaForm, "symptom": SymptomForm, "settings": SettingsForm}.get(which)
        if form is None:
            raise Http404
        bound = form(request.POST)
        if bound.is_valid():
            try:
                data = bound.cleaned_data
                if which == "area":
                    if area is None:
                        services.risk_area_create(actor=user, data=data)
                    else:
                        services.risk_area_update(actor=user, area=area, data=data)
                elif which == "symptom":
                    if symptom is None:
                        services.symptom_create(actor=user, data=data)
                    else:
                        services.symptom_update(actor=user, symptom=symptom, data=data)
                else:
                    services.settings_update(actor=user, data=data)
                messages.success(request, _("Saved."))
                return redirect("rules")
            except DomainError as exc:
                form_add_domain_error(bound, exc)
        if which == "area":
            area_form = bound
        elif which == "symptom":
            symptom_form = bound
        else:
            settings_form = bound
    elif editable:
        key = request.GET.get("area", "")
        if key == "new":
            area_form = RiskAreaForm()
        elif key.isdigit():
            area = selectors.risk_area_get(user, int(key))
            area_form = RiskAreaForm(initial={f: getattr(area, f) for f in services.AREA_FIELDS})
        key = request.GET.get("symptom", "")
        if key == "new":
            symptom_form = SymptomForm()
        elif key.isdigit():
            symptom = selectors.symptom_get(user, int(key))
            symptom_form = SymptomForm(
                initial={f: getattr(symptom, f) for f in services.SYMPTOM_FIELDS}
            )
    return render(
        request,
        "health/rules.html",
        {
            "areas": selectors.risk_area_list(user),
            "symptoms": selectors.symptom_list(user),
            "settings": settings,
            "editable": editable,
            "area": area,
            "area_form": area_form,
            "symptom": symptom,
            "symptom_form": symptom_form,
            "settings_form": settings_form,
        },
    )


# --- declarations ----------------------------------------------------------------------------


@staff_view
def declaration_list(request):
    user = request.user
    access.require(user, "declaration.view")
    deciding = access.can(user, "decision.make")
    tabs = [("confirm", _("To confirm"))]
    if deciding:
        tabs.append(("decide", _("To decide")))
    tabs.append(("all", _("All")))
    tab = request.GET.get("tab") or ("decide" if deciding else "confirm")
    if tab not in dict(tabs):
        tab = "all"
    awaiting = {"confirm": "confirmation", "decide": "decision"}.get(tab, "")
    proposal = request.GET.get("proposal", "")
    if proposal not in Outcome.values:
        proposal = ""
    status = request.GET.get("status", "")
    if status not in DeclarationStatus.values:
        status = ""
    person = None
    raw = request.GET.get("person", "")
    if raw.isdigit():
        person = people.person_get(user, int(raw))
    qs = selectors.declaration_list(
        user, awaiting=awaiting, proposal=proposal, status=status, person=person
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "health/declaration_list.html",
        {
            "page": page,
            "person": person,
            "tab": tab,
            "tabs": tabs,
            "proposal": proposal,
            "status": status,
            "outcomes": Outcome.choices,
            "statuses": DeclarationStatus.choices,
            "counts": {
                "confirm": selectors.awaiting_confirmation(user).count(),
                "decide": selectors.awaiting_decision(user).count() if deciding else 0,
            },
        },
    )


def _visit_of(request, raw: str):
    if not raw:
        return None
    if not raw.isdigit():
        raise NotFound(_("No such door visit."))
    return door_visit_get(request.user, int(raw))


@staff_view
@require_http_methods(["GET", "POST"])
def declaration_new(request):
    """The declaration form for one person (?person=<pk>[&visit=<pk>])."""
    user = request.user
    access.require(user, "declaration.record")
    raw = request.GET.get("person", "")
    if not raw.isdigit():
        raise NotFound(_("No such person."))
    person = people.person_get(user, int(raw))
    visit = _visit_of(request, request.GET.get("visit", ""))
    config = services.rules_config()
    exc = None
    if request.method == "POST":
        form = DeclarationForm(request.POST, symptoms=config.symptoms)
        travel = _rows(request.POST, "travel", TRAVEL_KEYS)
        contacts = _rows(request.POST, "contact", CONTACT_KEYS)
        if form.is_valid():
            try:
                if request.POST.get("preview"):
                    # First the proposal, nothing stored: the worker checks it and saves.
                    proposal = services.declaration_propose(
                        actor=user,
                        person=person,
                        data=_declaration_input(form, travel, contacts),
                        visit=visit,
                    )
                    return render(
                        request,
                        "health/declaration_form.html",
                        {
                            "person": person,
                            "visit": visit,
                            "proposal": proposal,
                            "proposal_label": Outcome(proposal.outcome).label,
                            **_form_context(form, travel, contacts, None),
                        },
                    )
                declaration = services.declaration_record(
                    actor=user,
                    person=person,
                    data=_declaration_input(form, travel, contacts),
                    visit=visit,
                    source="visit" if visit else "staff",
                    client_id=form.cleaned_data.get("client_id"),
                )
                messages.success(
                    request,
                    _("Saved. The rules propose: %(p)s.")
                    % {"p": declaration.get_proposal_display()},
                )
                return redirect("declaration_detail", pk=declaration.pk)
            except DomainError as e:
                exc = e
                _apply_errors(form, e)
    else:
        form = DeclarationForm(
            symptoms=config.symptoms,
            initial={"declared_on": timezone.localdate(), "travel_since": config.travel_since},
        )
        travel, contacts = [], []
    return render(
        request,
        "health/declaration_form.html",
        {"person": person, "visit": visit, **_form_context(form, travel, contacts, exc)},
        status=400 if request.method == "POST" else 200,  # only a refused POST gets here
    )


def _symptom_names(codes: list[str]) -> list[str]:
    names = dict(services.rules_config().symptoms)

    missing = [c for c in codes if c not in names]
    if missing:
        names.update(selectors.symptom_names(missing))
    return [names.get(c, c) for c in codes]


def _detail(request, declaration, decision_form=None, status: int = 200):
    user = request.user
    can_decide = (
        access.can(user, "decision.make") and declaration.status == DeclarationStatus.CONFIRMED
    )
    places = selectors.central_places(user)
    if can_decide and decision_form is None:
        decision_form = DecisionForm(
            places=places,
            initial={"outcome": declaration.proposal, "last_exposure": declaration.last_exposure},
        )
    return render(
        request,
        "health/declaration_detail.html",
        {
            "d": declaration,
            "person": declaration.person,
            "symptom_names": _symptom_names(declaration.symptoms),
            "decisions": selectors.decision_list(user, declaration=declaration),
            "can_confirm": declaration.status == DeclarationStatus.PENDING
            and access.can(user, "declaration.record"),
            "decision_form": decision_form if can_decide else None,
            "next_member": (
                selectors.next_member_to_declare(user, declaration)
                if access.can(user, "declaration.record")
                else None
            ),
        },
        status=status,
    )


@staff_view
def declaration_detail(request, pk: int):
    return _detail(request, selectors.declaration_get(request.user, pk, via="ui"))


@staff_view
@require_http_methods(["GET", "POST"])
def declaration_confirm(request, pk: int):
    """Confirm a self-report as sent (a POST from the detail page), or correct it first: the
    GET opens the declaration form filled with what the resident sent."""
    user = request.user
    access.require(user, "declaration.record")
    declaration = selectors.declaration_get(user, pk)
    if declaration.status != DeclarationStatus.PENDING:
        if request.method == "POST":
            messages.error(request, _("This declaration is already confirmed."))
        return redirect("declaration_detail", pk=pk)
    config = services.rules_config()
    exc = None
    if request.method == "POST" and not request.POST.get("correct"):
        try:
            services.declaration_confirm(actor=user, declaration=declaration)
            messages.success(request, _("Confirmed."))
        except DomainError as e:
            messages.error(request, e.message)
        return redirect("declaration_detail", pk=pk)
    if request.method == "POST":
        form = DeclarationForm(request.POST, symptoms=config.symptoms)
        travel = _rows(request.POST, "travel", TRAVEL_KEYS)
        contacts = _rows(request.POST, "contact", CONTACT_KEYS)
        if form.is_valid():
            try:
                services.declaration_confirm(
                    actor=user,
                    declaration=declaration,
                    data=_declaration_input(form, travel, contacts),
                )
                messages.success(request, _("Corrected and confirmed."))
                return redirect("declaration_detail", pk=pk)
            except DomainError as e:
                exc = e
                _apply_errors(form, e)
        access_record(user, declaration.person, node_path=declaration.node.path, via="ui")
    else:
        # The form shows what the resident sent: a read of their health record.
        access_record(user, declaration.person, node_path=declaration.node.path, via="ui")
        form = DeclarationForm(
            symptoms=config.symptoms,
            initial={
                "declared_on": declaration.declared_on,
                "temperature": declaration.temperature if declaration.temperature else "",
                "temperature_method": declaration.temperature_method,
                "symptoms": declaration.symptoms,
                "travel_since": declaration.travel_since,
                "notes": declaration.notes,
            },
        )
        travel = [{k: r.get(k, "") for k in TRAVEL_KEYS} for r in declaration.travel]
        contacts = [{k: r.get(k, "") for k in CONTACT_KEYS} for r in declaration.contacts]
    return render(
        request,
        "health/declaration_form.html",
        {
            "person": declaration.person,
            "confirming": declaration,
            **_form_context(form, travel, contacts, exc),
        },
    )


@staff_view
@require_POST
def declaration_decide(request, pk: int):
    access.require(request.user, "decision.make")
    declaration = selectors.declaration_get(request.user, pk)
    form = DecisionForm(request.POST, places=selectors.central_places(request.user))
    if form.is_valid():
        cd = form.cleaned_data
        try:
            flows.decision_make(
                actor=request.user,
                person=declaration.person,
                outcome=cd["outcome"],
                reason=cd["reason"],
                declaration=declaration,
                last_exposure=cd["last_exposure"],
                place=cd["place"],
                client_id=cd.get("client_id"),
            )
            messages.success(request, _("Decision saved."))
            return redirect("declaration_detail", pk=pk)
        except DomainError as exc:
            form_add_domain_error(form, exc)
    # The form comes back on the whole declaration: a read like the detail page's.
    access_record(request.user, declaration.person, node_path=declaration.node.path, via="ui")
    return _detail(request, declaration, decision_form=form)


# --- the person page's panel -----------------------------------------------------------------


def _panel(request, pk: int, link: dict | None = None):
    """The panel for HTMX; opened without it (no script), the same panel in a whole page."""
    user = request.user
    access.require(user, "declaration.view")
    person = people.person_get(user, pk)
    # The panel shows the person's health data: a read of its own, told apart from the page.
    access_record(user, person, node_path=person.node.path, via="panel")
    return render(
        request,
        "health/_panel.html" if request.htmx else "health/panel_page.html",
        {
            "person": person,
            "declarations": selectors.declaration_list(user, person=person)[:5],
            "decisions": selectors.decision_list(user, person=person)[:5],
            "can_link": access.can(user, "selfreport.issue"),
            "can_record": access.can(user, "declaration.record"),
            "link": link,
        },
    )


@staff_view
def person_panel(request, pk: int):
    return _panel(request, pk)


@staff_view
@require_POST
def person_link(request, pk: int):
    """Make a self-report link: the URL and its QR code are shown this once."""
    access.require(request.user, "selfreport.issue")
    person = people.person_get(request.user, pk)
    link, token = services.selfreport_link_create(actor=request.user, person=person)
    url = link_url(request, token)
    qr = segno.make(url, error="m").svg_inline(scale=4)
    return _panel(request, pk, link={"url": url, "qr": qr, "expires": link.expires})


# --- the public self-report page -------------------------------------------------------------


def _invalid(request):
    return render(request, "health/public_invalid.html", status=404)


@csrf_protect
@require_http_methods(["GET", "POST"])
def selfreport(request, token: str):
    """No login: a resident declares through their personal link. Only the given name shows.
    An unknown, expired or replaced link answers the same page (404)."""
    try:
        link = services.selfreport_resolve(token)
    except NotFound:
        return _invalid(request)
    config = services.rules_config()
    observed = observed_now(link.person)
    exc = None
    done = None
    if request.method == "POST":
        form = DeclarationForm(request.POST, symptoms=config.symptoms)
        travel = _rows(request.POST, "travel", TRAVEL_KEYS)
        contacts = _rows(request.POST, "contact", CONTACT_KEYS)
        if form.is_valid():
            try:
                data = _declaration_input(form, travel, contacts)
                data.declared_on = None  # a resident declares for today
                done = services.selfreport_declare(
                    link=link, data=data, client_id=form.cleaned_data.get("client_id")
                )
            except DomainError as e:
                exc = e
                _apply_errors(form, e)
    else:
        form = DeclarationForm(
            symptoms=config.symptoms, initial={"travel_since": config.travel_since}
        )
        travel, contacts = [], []
    context = {
        "given_name": given_name(link.person.name),
        "daily_url": daily_path(token) if observed else None,
        "done": done,
        "today": timezone.localdate(),
        "methods": TempMethod.choices,
        **_form_context(form, travel, contacts, exc),
    }
    return render(request, "health/public_form.html", context)
