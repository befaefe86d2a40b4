"""Pages of fangyi.tips: the public report and tracking pages (no login), and the staff's
tips, their steps, visits with photos, and the categories' configuration. Thin: forms in,
services and selectors do the work."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import DomainError, Forbidden, NotFound
from fangyi.core.middleware import client_ip
from fangyi.core.models import Node, NodeKind
from fangyi.core.photos import photo_response
from fangyi.core.scoping import scoped_get
from fangyi.core.web import form_add_domain_error, staff_view
from fangyi.people.models import Household

from . import selectors, services
from .forms import (
    AnswerForm,
    AssignForm,
    CategoryForm,
    PublicTipForm,
    ReopenForm,
    ResolveForm,
    StaffTipForm,
    VisitForm,
)
from .models import OPEN_STATUSES, TipCategory, TipStatus, VisitAction

PAGE_SIZE = 40
ALIASES = {"__all__": None}


# --- shared ------------------------------------------------------------------------------------


def _category(raw) -> TipCategory | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    return services.categories_active().filter(code=raw).first()


def _answers(post, category: TipCategory | None) -> dict:
    if category is None:
        return {}
    return {
        q["code"]: post.get(f"answers.{q['code']}", "")
        for q in category.questions or []
        if q.get("code")
    }


def _questions(category: TipCategory | None, post=None, exc: DomainError | None = None) -> list:
    """The category's questions with what was typed and their errors, for the template."""
    if category is None:
        return []
    errors = exc.errors if exc else {}
    out = []
    for q in category.questions or []:
        name = f"answers.{q.get('code')}"
        out.append(
            {
                **q,
                "name": name,
                "value": (post or {}).get(name, ""),
                "errors": errors.get(name, []),
            }
        )
    return out


def _form_errors(form, exc: DomainError) -> None:
    """The service's errors on the form; the answers' errors show next to their questions."""
    rest = {k: v for k, v in exc.errors.items() if not k.startswith("answers.")}
    if rest:
        form_add_domain_error(form, DomainError(exc.message, errors=rest))


def _tip_input(cd, category, answers, household=None) -> services.TipInput:
    node = None
    if cd.get("node"):
        node = Node.objects.filter(pk=cd["node"]).first()
    return services.TipInput(
        category=category,
        description=cd.get("description", ""),
        node=node,
        address=cd.get("address", ""),
        household=household,
        answers=answers,
        reporter_name=cd.get("reporter_name", ""),
        reporter_phone=cd.get("reporter_phone", ""),
    )


def _public_nodes():

    return Node.objects.filter(kind=NodeKind.COMPOUND).order_by("path")


# --- the public pages ----------------------------------------------------------------------------


@csrf_protect
@require_http_methods(["GET", "POST"])
def report(request):
    """No login: a resident reports something. The category first (big buttons), then the
    form with its questions. A bot filling the hidden field gets the thank-you page, nothing
    is stored."""
    source = request.POST if request.method == "POST" else request.GET
    category = _category(source.get("category"))
    if category is None:
        return render(
            request,
            "tips/report_choose.html",
            {"categories": list(services.categories_active())},
            status=400 if request.method == "POST" else 200,
        )
    exc = None
    status = 200
    if request.method == "POST":
        form = PublicTipForm(request.POST, nodes=_public_nodes())
        if form.is_valid():
            cd = form.cleaned_data
            if cd.get("website"):
                return render(
                    request,
                    "tips/report_done.html",
                    {"code": services.new_code(), "category": category},
                )
            try:
                tip = services.tip_submit_public(
                    data=_tip_input(cd, category, _answers(request.POST, category)),
                    ip=client_ip(request),
                    client_id=cd.get("client_id"),
                )
                return render(
                    request, "tips/report_done.html", {"code": tip.code, "category": category}
                )
            except DomainError as e:
                exc = e
                _form_errors(form, e)
                status = e.status
        else:
            status = 400
    else:
        form = PublicTipForm(nodes=_public_nodes())
    return render(
        request,
        "tips/report_form.html",
        {
            "form": form,
            "category": category,
            "questions": _questions(
                category, request.POST if request.method == "POST" else None, exc
            ),
        },
        status=status,
    )


def _unknown(request):
    return render(
        request, "tips/track_unknown.html", {"message": selectors.unknown_code()}, status=404
    )


@require_http_methods(["GET"])
def track(request):
    """Enter a tracking code."""
    raw = request.GET.get("code", "")
    if raw:
        code = services.normalize_code(raw)
        if services.CODE_RE.match(code):
            return redirect("track_detail", code=code)
        return _unknown(request)
    return render(request, "tips/track.html", {})


@require_http_methods(["GET"])
def track_detail(request, code: str):
    """The reporter's page: category, received, compound, status, public timeline, answer."""
    try:
        tip = selectors.tip_public(code)
    except NotFound:
        return _unknown(request)
    view = selectors.public_view(tip)
    if view.answer:
        services.tip_answer_read(tip.duplicate_of or tip)
    return render(request, "tips/track_detail.html", {"view": view})


# --- the staff's tips ---------------------------------------------------------------------------

STATUS_FILTERS = [("open", _("Open")), ("", _("All"))] + [
    (v, label) for v, label in TipStatus.choices
]


@staff_view
def tip_list(request):
    access.require(request.user, "tip.view")
    status = request.GET.get("status", "open")
    if status not in dict(STATUS_FILTERS):
        status = "open"
    category = _category(request.GET.get("category"))
    mine = request.GET.get("mine") == "1"
    q = request.GET.get("q", "").strip()[:100]
    node = None
    raw = request.GET.get("node", "")
    if raw.isdigit():
        node = access.nodes_visible(request.user).filter(pk=raw).first()
    qs = selectors.tip_list(
        request.user, status=status, category=category, node=node, q=q, mine=mine
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(
        request,
        "tips/tip_list.html",
        {
            "page": page,
            "keep": keep.urlencode(),
            "status": status,
            "statuses": STATUS_FILTERS,
            "categories": list(services.categories_active()),
            "category": category,
            "mine": mine,
            "q": q,
            "now": timezone.now(),
            "open_statuses": [str(s) for s in OPEN_STATUSES],
        },
    )


def _staff_nodes(user):
    return (
        access.nodes_visible(user)
        .filter(kind__in=[NodeKind.COMPOUND, NodeKind.GRID])
        .order_by("path")
    )


@staff_view
@require_http_methods(["GET", "POST"])
def tip_create(request):
    """Staff enter a tip received by phone, in person, or seen on patrol."""
    access.require(request.user, "tip.record")
    source = request.POST if request.method == "POST" else request.GET
    category = _category(source.get("category"))
    household = None
    raw = source.get("household", "")
    if raw.isdigit():
        try:
            household = scoped_get(Household, request.user, int(raw), related=("node",))
        except NotFound:
            if request.method == "POST":
                # A household not yours answers 404, as the API does; the tip is not stored
                # at your own place instead.
                raise
            household = None  # a stale link: the form opens without the household
    elif raw and request.method == "POST":
        raise NotFound(_("No such household."), field="household")
    exc = None
    status = 200
    if request.method == "POST":
        raw_node = request.POST.get("node", "")
        if raw_node and (
            not raw_node.isdigit() or not _staff_nodes(request.user).filter(pk=raw_node).exists()
        ):
            # a place not yours answers like one that does not exist
            raise NotFound(_("No such jurisdiction."))
        form = StaffTipForm(request.POST, nodes=_staff_nodes(request.user))
        if category is None:
            form.is_valid()
            form.add_error(None, _("Choose what is being reported."))
            status = 400
        elif form.is_valid():
            cd = form.cleaned_data
            try:
                tip = services.tip_record(
                    actor=request.user,
                    data=_tip_input(cd, category, _answers(request.POST, category), household),
                    source=cd["source"],
                    client_id=cd.get("client_id"),
                )
                messages.success(
                    request, _("Tip recorded: tracking code %(code)s.") % {"code": tip.code}
                )
                return redirect("tip_detail", pk=tip.pk)
            except DomainError as e:
                if isinstance(e, NotFound) and "household" in e.errors:
                    household = None
                exc = e
                _form_errors(form, e)
                status = e.status
        else:
            status = 400
    else:
        form = StaffTipForm(
            nodes=_staff_nodes(request.user),
            initial={"node": household.node_id if household else None},
        )
    return render(
        request,
        "tips/tip_form.html",
        {
            "form": form,
            "category": category,
            "categories": list(services.categories_active()),
            "household": household,
            "questions": _questions(
                category, request.POST if request.method == "POST" else None, exc
            ),
        },
        status=status,
    )


def _next_steps(user, tip) -> dict:
    """Which buttons the page shows: the steps the tip's table lets this user take now."""
    allowed = services.tip_allowed_steps(user, tip)
    return {name: name in allowed for name in services.TIP_STEPS.steps}


# The step that comes next in each status, shown first; the other allowed steps fold under
# "Other steps" (the field trial found resolve offered before accept, every form at once).
NEXT_BY_STATUS = {
    "new": ("assign",),
    "assigned": ("accept",),
    "accepted": ("on_scene", "visit"),
    "on_scene": ("visit", "resolve"),
    "in_progress": ("visit", "resolve"),
    "resolved": ("answer",),
    "answered": ("close", "correct_answer"),
    "closed": ("reopen",),
}
# The steps that have a form or a button on the page, in the page's order.
PAGE_STEPS = (
    "accept", "on_scene", "visit", "resolve", "answer", "close", "correct_answer", "reopen",
    "assign",
)  # fmt: skip


def _step_order(steps: dict, status: str, forms: dict) -> dict:
    allowed = [name for name in PAGE_STEPS if steps.get(name)]
    now = [name for name in NEXT_BY_STATUS.get(status, ()) if name in allowed]
    if not now and allowed:
        now = allowed[:1]
    other = [name for name in allowed if name not in now]
    return {
        "now": now,
        "other": other,
        # A refused form among the others opens them, so its errors are seen.
        "other_open": any(name in forms for name in other),
    }


def _detail(request, tip, *, forms: dict | None = None, status: int = 200, error: str = ""):
    forms = forms or {}
    steps = _next_steps(request.user, tip)
    workers = list(services.assignable_users(tip)) if steps["assign"] else []
    assignees = list(tip.assignees.all())
    visits = selectors.visit_list(request.user, tip)
    labels = dict(VisitAction.choices)
    for v in visits:
        v.action_labels = [str(labels.get(a, a)) for a in v.actions]
    context = {
        "tip": tip,
        "steps": steps,
        "order": _step_order(steps, tip.status, forms),
        "assignees": assignees,
        "events": selectors.event_list(tip),
        "visits": visits,
        "duplicates": selectors.tip_duplicates(request.user, tip) if steps["merge"] else [],
        "questions": [
            {**q, "answer": tip.answers.get(q.get("code"))}
            for q in tip.category.questions or []
            if q.get("code") in (tip.answers or {})
        ],
        "visit_form": forms.get("visit") or VisitForm(),
        "resolve_form": forms.get("resolve") or ResolveForm(),
        "answer_form": forms.get("answer") or AnswerForm(),
        "correct_form": forms.get("correct_answer") or AnswerForm(initial={"answer": tip.answer}),
        "reopen_form": forms.get("reopen") or ReopenForm(),
        "assign_form": forms.get("assign")
        or AssignForm(workers=workers, initial={"users": [u.pk for u in assignees]}),
        "error": error,
        "now": timezone.now(),
    }
    return render(request, "tips/tip_detail.html", context, status=status)


@staff_view
def tip_detail(request, pk: int):
    tip = selectors.tip_get(request.user, pk, via="ui")
    return _detail(request, tip)


def _step(request, pk: int, action: str, run, form_key: str | None = None, form=None):
    """Run one step; on a refusal the page comes back with the message (and the form)."""
    access.require(request.user, action)
    tip = selectors.tip_get(request.user, pk)
    if form is not None and not form.is_valid():
        access_ui(request, tip)
        return _detail(request, tip, forms={form_key: form}, status=400)
    try:
        message = run(tip, form.cleaned_data if form is not None else None)
    except DomainError as exc:
        if isinstance(exc, Forbidden) or (
            isinstance(exc, NotFound) and set(exc.errors) <= {"__all__"}
        ):
            raise
        if form is not None:
            form_add_domain_error(form, exc)
        access_ui(request, tip)
        return _detail(
            request,
            tip,
            forms={form_key: form} if form is not None else {},
            status=exc.status,
            error=exc.message,
        )
    messages.success(request, message)
    return redirect("tip_detail", pk=pk)


def access_ui(request, tip) -> None:
    """The page that comes back with errors shows the reporter's data: a read like a GET."""

    access_record(request.user, tip, node_path=tip.node.path, via="ui")


@staff_view
@require_POST
def tip_assign(request, pk: int):
    access.require(request.user, "tip.manage")
    tip = selectors.tip_get(request.user, pk)
    workers = list(services.assignable_users(tip))
    form = AssignForm(request.POST, workers=workers)

    def run(tip, cd):
        users = [form.workers[i] for i in cd["users"]]
        services.tip_assign(actor=request.user, tip=tip, users=users)
        return _("Assigned to %(names)s.") % {"names": "、".join(u.display_name for u in users)}

    return _step(request, pk, "tip.manage", run, "assign", form)


@staff_view
@require_POST
def tip_accept(request, pk: int):
    def run(tip, cd):
        services.tip_accept(actor=request.user, tip=tip)
        return _("You accepted the tip.")

    return _step(request, pk, "tip.handle", run)


@staff_view
@require_POST
def tip_on_scene(request, pk: int):
    def run(tip, cd):
        services.tip_on_scene(actor=request.user, tip=tip)
        return _("On scene.")

    return _step(request, pk, "tip.handle", run)


@staff_view
@require_POST
def tip_visit(request, pk: int):
    form = VisitForm(request.POST)

    def run(tip, cd):
        services.tip_visit_record(
            actor=request.user,
            tip=tip,
            at=cd.get("at"),
            found=cd["found"],
            actions=cd.get("actions") or [],
            people=cd.get("people"),
            notices=cd.get("notices"),
            notes=cd.get("notes", ""),
            photos=request.FILES.getlist("photos"),
            client_id=cd.get("client_id"),
        )
        return _("Visit recorded.")

    return _step(request, pk, "tip.handle", run, "visit", form)


@staff_view
@require_POST
def tip_resolve(request, pk: int):
    form = ResolveForm(request.POST)

    def run(tip, cd):
        services.tip_resolve(
            actor=request.user, tip=tip, resolution=cd["resolution"], note=cd.get("note", "")
        )
        return _("Tip resolved.")

    return _step(request, pk, "tip.handle", run, "resolve", form)


@staff_view
@require_POST
def tip_answer(request, pk: int):
    form = AnswerForm(request.POST)

    def run(tip, cd):
        services.tip_answer(actor=request.user, tip=tip, answer=cd["answer"])
        return _("The answer is on the reporter's tracking page.")

    return _step(request, pk, "tip.handle", run, "answer", form)


@staff_view
@require_POST
def tip_answer_correct(request, pk: int):
    form = AnswerForm(request.POST)

    def run(tip, cd):
        services.tip_answer_correct(actor=request.user, tip=tip, answer=cd["answer"])
        return _("The answer is corrected on the reporter's tracking page.")

    return _step(request, pk, "tip.handle", run, "correct_answer", form)


@staff_view
@require_POST
def tip_close(request, pk: int):
    def run(tip, cd):
        services.tip_close(actor=request.user, tip=tip)
        return _("Tip closed.")

    return _step(request, pk, "tip.manage", run)


@staff_view
@require_POST
def tip_reopen(request, pk: int):
    form = ReopenForm(request.POST)

    def run(tip, cd):
        services.tip_reopen(actor=request.user, tip=tip, note=cd["note"])
        return _("Tip reopened.")

    return _step(request, pk, "tip.manage", run, "reopen", form)


@staff_view
@require_POST
def tip_merge(request, pk: int):
    def run(tip, cd):
        raw = request.POST.get("into", "")
        into = selectors.tip_list(request.user).filter(pk=raw).first() if raw.isdigit() else None
        if into is None:
            raise NotFound(_("No such tip."), field="into")
        services.tip_merge(actor=request.user, tip=tip, into=into)
        return _("Merged into %(code)s.") % {"code": into.code}

    return _step(request, pk, "tip.manage", run)


@staff_view
def tip_photo(request, pk: int):
    """A visit's photo, for those who may see the tip (the read is logged)."""
    photo = selectors.photo_get(request.user, pk, via="ui")
    return photo_response(photo)


# --- configuration -----------------------------------------------------------------------------


@staff_view
def category_list(request):
    access.require(request.user, "tipcategory.configure")
    return render(
        request,
        "tips/category_list.html",
        {"categories": selectors.category_list()},
    )


@staff_view
@require_http_methods(["GET", "POST"])
def category_edit(request, pk: int):
    access.require(request.user, "tipcategory.configure")
    category = selectors.category_get(pk)
    status = 200
    if request.method == "POST":
        form = CategoryForm(request.POST)
        if form.is_valid():
            cd = form.cleaned_data
            try:
                services.tipcategory_update(actor=request.user, category=category, **cd)
                messages.success(request, _("Category saved."))
                return redirect("tipcategory_list")
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = exc.status
        else:
            status = 400
    else:
        form = CategoryForm(
            initial={
                "name": category.name,
                "description": category.description,
                "questions": json.dumps(category.questions, ensure_ascii=False, indent=2),
                "route_roles": category.route_roles,
                "urgent": category.urgent,
                "response_minutes": category.response_minutes,
                "duplicate_hours": category.duplicate_hours,
                "active": category.active,
            }
        )
    return render(
        request,
        "tips/category_form.html",
        {"form": form, "category": category, "back": reverse("tipcategory_list")},
        status=status,
    )
