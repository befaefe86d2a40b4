"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2/): the service list, creating
and reading requests, for other city systems. JSON only (the `.json` format suffix; `.xml`
answers 404).

A service is an active tip category, a service request is a tip, and its service_request_id is
the tip's tracking code. Creating and reading requests needs a Fangyi personal API token of a
staff account with `tip.record` / `tip.view`: sent as the spec's `api_key` (a query or form
parameter) or as `Authorization: Bearer fy_...`; a logged-in browser session works too (with
its CSRF token on POST). A request is made through `services.tip_record(source="open311")`
with that account as the actor, so its jurisdiction decides where a request may be placed and
which requests it reads; outside it answers 404 exactly like an unknown code. Errors are the
spec's list: `[{"code": 400, "description": "..."}]` with the same HTTP status. See
docs/open311.md.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from ninja import Field, Form, Query, Router, Schema, Status
from ninja.utils import check_csrf

from fangyi.core import access
from fangyi.core.audit import access_record, current_ip
from fangyi.core.errors import DomainError
from fangyi.core.middleware import needs_second_factor
from fangyi.core.models import PATH_STEP, AccessLog, Node, User
from fangyi.core.services import token_authenticate
from fangyi.people.models import Household

from . import services
from .models import OPEN_STATUSES, Tip, TipCategory, TipEvent, TipSource

router = Router(tags=["open311"])

# The spec's suggested ceiling for one GET requests answer, and its default date range.
MAX_REQUESTS = 1000
DEFAULT_DAYS = 90
# Open311 datatypes of the category questions' types.
DATATYPES = {"text": "string", "number": "number", "yes_no": "singlevaluelist"}
# Where a field of the tip services' errors came from, in the spec's parameter names.
PARAMS = {
    "category": "service_code",
    "latitude": "lat",
    "longitude": "long",
    "address": "address_string",
    "node": "address_string",
    "household": "address_id",
    "reporter_name": "first_name",
    "reporter_phone": "phone",
}


class Open311Error(Exception):
    """An error answered in the spec's shape: [{"code": status, "description": ...}]."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__(descriptions[0] if descriptions else "")
        self.status = status
        self.descriptions = descriptions


# --- schemas ---------------------------------------------------------------------------------


class Open311ErrorOut(Schema):
    code: int = Field(..., examples=[400])
    description: str = Field(..., examples=["attribute[people]: Enter a whole number."])


ERRORS = {
    400: list[Open311ErrorOut],
    403: list[Open311ErrorOut],
    404: list[Open311ErrorOut],
    409: list[Open311ErrorOut],
}


class ServiceOut(Schema):
    service_code: str = Field(..., examples=["gathering"])
    service_name: str = Field(..., examples=["聚集、聚餐"])
    description: str = Field("", examples=["打牌、聚餐、喝酒等人员聚集"])
    metadata: bool = Field(..., description="True when the service has attributes to answer.")
    type: str = Field("realtime", examples=["realtime"])
    keywords: str = ""
    group: str = ""


class ValueOut(Schema):
    key: str = Field(..., examples=["yes"])
    name: str = Field(..., examples=["Yes"])


class AttributeOut(Schema):
    variable: bool = True
    code: str = Field(..., examples=["people"])
    datatype: str = Field(..., examples=["number"])
    required: bool = False
    datatype_description: str | None = Field(None, examples=["A whole number from 0 to 100000."])
    order: int = Field(..., examples=[1])
    description: str = Field(..., examples=["大约多少人"])
    values: list[ValueOut] = Field(default_factory=list)


class ServiceDefinitionOut(Schema):
    service_code: str = Field(..., examples=["gathering"])
    attributes: list[AttributeOut]


class RequestIn(Schema):
    """The spec's form fields. `attribute[<code>]=<value>` answers the service's attributes
    (form-encoded; in a JSON body also as {"attribute": {"<code>": "<value>"}})."""

    api_key: str | None = Field(None, description="A Fangyi personal API token (fy_...).")
    jurisdiction_id: str | None = Field(None, description="Accepted and ignored.")
    service_code: str | None = Field(None, examples=["gathering"])
    lat: str | None = Field(None, examples=["22.8170"])
    long: str | None = Field(None, examples=["108.3669"])
    address_string: str | None = Field(None, examples=["南铁北四区7栋"])
    address_id: str | None = Field(None, description="A household id.", examples=["123"])
    email: str | None = Field(None, description="Accepted and ignored (not stored).")
    device_id: str | None = Field(None, description="Accepted and ignored.")
    account_id: str | None = Field(None, description="Accepted and ignored.")
    first_name: str | None = Field(None, examples=["三"])
    last_name: str | None = Field(None, examples=["张"])
    phone: str | None = Field(None, examples=["13800138000"])
    description: str | None = Field(None, examples=["7栋2单元有十几个人聚餐"])
    media_url: str | None = Field(None, description="Accepted and ignored (no photo fetched).")
    client_id: str | None = Field(
        None, description="Fangyi extension (a UUID): the same id twice stores one request."
    )


class CreatedOut(Schema):
    service_request_id: str = Field(..., examples=["K7M2QX9RTB"])
    service_notice: str = ""
    account_id: str | None = None


class RequestOut(Schema):
    service_request_id: str = Field(..., examples=["K7M2QX9RTB"])
    status: str = Field(..., examples=["open"])
    status_notes: str = Field("", description="The answer to the reporter, once given.")
    service_name: str = Field(..., examples=["聚集、聚餐"])
    service_code: str = Field(..., examples=["gathering"])
    description: str = Field("", examples=["7栋2单元有十几个人聚餐"])
    agency_responsible: str = Field("", examples=["五里亭派出所"])
    service_notice: str = ""
    requested_datetime: dt.datetime
    updated_datetime: dt.datetime | None = None
    expected_datetime: dt.datetime | None = None
    address: str = Field("", examples=["南铁北四区"])
    address_id: int | None = None
    zipcode: str | None = None
    lat: float | None = Field(None, examples=[22.817])
    long: float | None = Field(None, examples=[108.3669])
    media_url: str = ""


# --- helpers ---------------------------------------------------------------------------------


def _errors(exc: Open311Error):
    status = exc.status if exc.status in ERRORS else 400
    return Status(status, [{"code": status, "description": d} for d in exc.descriptions])


def _from_domain(exc: DomainError) -> Open311Error:
    """A service's error in the spec's shape, each message prefixed by the spec's parameter."""
    lines = []
    for field, messages in exc.errors.items():
        if field.startswith("answers."):
            name = f"attribute[{field.split('.', 1)[1]}]"
        else:
            name = PARAMS.get(field, field)
        for message in messages:
            lines.append(str(message) if name == "__all__" else f"{name}: {message}")
    return Open311Error(exc.status, *(lines or [exc.message]))


def _bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def _caller(request, api_key: str | None, action: str) -> User:
    """The account the call acts for: the api_key (or a Bearer token), else the browser
    session once its second factor is done (with CSRF on a write). Then the role's right."""
    key = (api_key or "").strip() or _bearer(request)
    if key:
        user = token_authenticate(key)
        if user is None:
            raise Open311Error(403, _("Invalid api_key."))
        request.user = user
    else:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or needs_second_factor(request):
            raise Open311Error(403, _("api_key was not provided."))
        if request.method not in ("GET", "HEAD") and check_csrf(request) is not None:
            raise Open311Error(403, _("CSRF check failed: send an api_key instead."))
    if not access.can(user, action):
        raise Open311Error(403, _("This api_key's account may not do this."))
    return user


def _category(code: str | None) -> TipCategory:
    category = TipCategory.objects.filter(code=(code or "").strip(), active=True).first()
    if category is None:
        raise Open311Error(404, _("No such service_code."))
    return category


def _datatype_description(question: dict) -> str | None:
    kind = question.get("type", "text")
    if kind == "number":
        return _("A whole number from 0 to 100000.")
    if kind == "yes_no":
        return _("yes or no")
    if kind == "choice":
        return _("One of the values listed.")
    return _("Text, at most 200 characters.")


def _values(question: dict) -> list[dict]:
    kind = question.get("type", "text")
    if kind == "yes_no":
        return [{"key": "yes", "name": _("Yes")}, {"key": "no", "name": _("No")}]
    if kind == "choice":
        return [{"key": str(c), "name": str(c)} for c in question.get("choices") or []]
    return []


def _raw_fields(request, form: RequestIn) -> tuple[dict, dict]:
    """The submitted fields and the attribute answers, from the form or a JSON body."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise Open311Error(400, _("The body is not valid JSON.")) from None
        if not isinstance(body, dict):
            raise Open311Error(400, _("The body must be a JSON object."))
        fields = {k: v for k, v in body.items() if not isinstance(v, dict | list)}
        answers = body.get("attribute") if isinstance(body.get("attribute"), dict) else {}
        source = body
    else:
        fields = {k: v for k, v in form.dict().items() if v is not None}
        answers, source = {}, request.POST
    for key in source:
        match = re.fullmatch(r"attribute\[([\w-]+)\]", str(key))
        if match:
            answers[match.group(1)] = source[key]
    return fields, answers


def _text(fields: dict, name: str) -> str:
    value = fields.get(name)
    return "" if value is None else str(value).strip()


def _reporter_name(first: str, last: str) -> str:
    if first.isascii() and last.isascii():
        return " ".join(p for p in (first, last) if p)
    return f"{last}{first}"  # Chinese order: family name first, no space


def _household(raw: str) -> Household | None:
    if not raw:
        return None
    if not raw.isdigit():
        raise Open311Error(400, _("address_id: Enter a household id (a whole number)."))
    household = Household.objects.filter(pk=int(raw)).select_related("node").first()
    if household is None:
        raise Open311Error(404, _("address_id: No such household."))
    return household


def _status(tip: Tip) -> str:
    return "open" if tip.status in OPEN_STATUSES else "closed"


def _stations(tips: list[Tip]) -> dict[str, str]:
    """Station path -> name for the tips' places (the station is the third level)."""
    paths = {t.node.path[: 3 * PATH_STEP] for t in tips if t.node.depth >= 2}
    return dict(Node.objects.filter(path__in=paths, kind="station").values_list("path", "name"))


def _request_out(tip: Tip, stations: dict[str, str]) -> dict:
    answered = tip.answer if tip.answered_at else ""
    return {
        "service_request_id": tip.code,
        "status": _status(tip),
        "status_notes": answered,
        "service_name": tip.category.name,
        "service_code": tip.category.code,
        "description": tip.description,
        "agency_responsible": stations.get(tip.node.path[: 3 * PATH_STEP], ""),
        "requested_datetime": timezone.localtime(tip.received_at),
        "updated_datetime": timezone.localtime(getattr(tip, "updated", None) or tip.received_at),
        "expected_datetime": timezone.localtime(tip.due_at) if tip.due_at else None,
        "address": tip.address or tip.node.name,
        "address_id": tip.household_id,
        "lat": float(tip.latitude) if tip.latitude is not None else None,
        "long": float(tip.longitude) if tip.longitude is not None else None,
        "media_url": "",
    }


def _tips(user: User):
    last_event = TipEvent.objects.filter(tip=OuterRef("pk")).order_by("-at", "-id").values("at")
    return (
        Tip.objects.visible_to(user)
        .select_related("category", "node")
        .annotate(updated=Subquery(last_event[:1]))
        .order_by("-received_at", "-id")
    )


def _when(raw: str, name: str, end: bool = False) -> dt.datetime:
    """An ISO 8601 date-time (a bare date: the start of that day, or the end for end_date)."""
    value = None
    try:
        day = parse_date(raw) if len(raw.strip()) == 10 else None
        if day is not None:
            value = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
        else:
            value = parse_datetime(raw.strip())
    except ValueError:
        value = None
    if value is None:
        raise Open311Error(400, _("%(name)s: Enter an ISO 8601 date-time.") % {"name": name})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


# --- operations ------------------------------------------------------------------------------


@router.get("/services.json", response={200: list[ServiceOut]}, auth=None)
def services_list(request, jurisdiction_id: str | None = None):
    """GET Service List: one service per active tip category. No key needed."""
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": c.description,
            "metadata": bool(c.questions),
            "type": "realtime",
            "keywords": "",
            "group": "",
        }
        for c in services.categories_active()
    ]


@router.get(
    "/services/{service_code}.json",
    response={200: ServiceDefinitionOut, 404: list[Open311ErrorOut]},
    auth=None,
)
def service_definition(request, service_code: str, jurisdiction_id: str | None = None):
    """GET Service Definition: the category's questions as attributes. No key needed."""
    try:
        category = _category(service_code)
    except Open311Error as exc:
        return _errors(exc)
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": q.get("code", ""),
                "datatype": DATATYPES.get(q.get("type", "text"), "singlevaluelist"),
                "required": bool(q.get("required")),
                "datatype_description": _datatype_description(q),
                "order": i,
                "description": q.get("label", ""),
                "values": _values(q),
            }
            for i, q in enumerate(category.questions or [], start=1)
        ],
    }


@router.post("/requests.json", response={201: list[CreatedOut], **ERRORS}, auth=None)
def request_create(request, form: Form[RequestIn]):
    """POST Service Request: a tip entered for the api_key's account (source "open311"),
    placed by address_id (a household), or a compound's name in address_string; inside the
    account's jurisdiction. Form-encoded per the spec (a JSON object is accepted too).
    email and media_url are accepted and ignored. Answers the tracking code as
    service_request_id."""
    try:
        fields, answers = _raw_fields(request, form)
        user = _caller(
            request, _text(fields, "api_key") or request.GET.get("api_key"), "tip.record"
        )
        category = _category(_text(fields, "service_code"))
        household = _household(_text(fields, "address_id"))
        raw_id = _text(fields, "client_id")
        try:
            client_id = uuid.UUID(raw_id) if raw_id else None
        except ValueError:
            raise Open311Error(400, _("client_id: Enter a valid UUID.")) from None
        data = services.TipInput(
            category=category,
            description=_text(fields, "description"),
            address=_text(fields, "address_string"),
            household=household,
            latitude=_text(fields, "lat") or None,
            longitude=_text(fields, "long") or None,
            answers=answers,
            reporter_name=_reporter_name(_text(fields, "first_name"), _text(fields, "last_name")),
            reporter_phone=_text(fields, "phone"),
        )
        try:
            tip = services.tip_record(
                actor=user, data=data, source=TipSource.OPEN311, client_id=client_id
            )
        except DomainError as exc:
            raise _from_domain(exc) from None
    except Open311Error as exc:
        return _errors(exc)
    notice = _("Received. Target time on scene: %(minutes)s minutes.") % {
        "minutes": tip.category.response_minutes
    }
    return Status(
        201, [{"service_request_id": tip.code, "service_notice": notice, "account_id": None}]
    )


@router.get("/requests.json", response={200: list[RequestOut], **ERRORS}, auth=None)
def requests_list(
    request,
    api_key: str | None = None,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = Query(None, description="Comma-separated codes."),
    service_code: str | None = Query(None, description="Comma-separated service codes."),
    start_date: str | None = Query(None, examples=["2020-02-01T00:00:00+08:00"]),
    end_date: str | None = Query(None, examples=["2020-02-08T00:00:00+08:00"]),
    status: str | None = Query(None, description="open, closed, or both comma-separated."),
):
    """GET Service Requests: the account's tips in its jurisdiction, newest first, at most
    1000. service_request_id overrides the other filters; without dates, the last 90 days.
    Never the reporter's name or phone."""
    try:
        user = _caller(request, api_key, "tip.view")
        tips = _tips(user)
        if service_request_id:
            codes = [services.normalize_code(c) for c in service_request_id.split(",")]
            tips = tips.filter(code__in=[c for c in codes if c])
        else:
            if service_code:
                tips = tips.filter(category__code__in=[c.strip() for c in service_code.split(",")])
            start = _when(start_date, "start_date") if start_date else None
            end = _when(end_date, "end_date", end=True) if end_date else None
            if start and end and start > end:
                raise Open311Error(400, _("start_date: Must not be after end_date."))
            if start is None and end is None:
                start = timezone.now() - dt.timedelta(days=DEFAULT_DAYS)
            if start:
                tips = tips.filter(received_at__gte=start)
            if end:
                tips = tips.filter(received_at__lte=end)
            if status:
                wanted = {s.strip().lower() for s in status.split(",") if s.strip()}
                if not wanted <= {"open", "closed"}:
                    raise Open311Error(400, _("status: Use open or closed."))
                if wanted == {"open"}:
                    tips = tips.filter(status__in=OPEN_STATUSES)
                elif wanted == {"closed"}:
                    tips = tips.exclude(status__in=OPEN_STATUSES)
    except Open311Error as exc:
        return _errors(exc)
    rows = list(tips[:MAX_REQUESTS])
    stations = _stations(rows)
    _log_reads(user, rows)
    return [_request_out(t, stations) for t in rows]


def _log_reads(user: User, tips: list[Tip]) -> None:
    """The list shows every tip's description: one access-log row per tip, in one insert."""
    ip = current_ip.get()
    AccessLog.objects.bulk_create(
        AccessLog(
            user=user,
            user_name=user.username,
            object_type=Tip._meta.model_name,
            object_id=t.pk,
            object_repr=str(t)[:200],
            node_path=t.node.path,
            via="open311",
            ip=ip,
        )
        for t in tips
    )


@router.get(
    "/requests/{service_request_id}.json",
    response={200: list[RequestOut], **ERRORS},
    auth=None,
)
def request_get(
    request, service_request_id: str, api_key: str | None = None, jurisdiction_id: str | None = None
):
    """GET Service Request: one tip by its code, as a one-element list. Unknown and outside
    the account's jurisdiction answer the same 404. The read is logged."""
    try:
        user = _caller(request, api_key, "tip.view")
        code = services.normalize_code(service_request_id)
        tip = _tips(user).filter(code=code).first() if services.CODE_RE.match(code) else None
        if tip is None:
            raise Open311Error(404, _("No such service_request_id."))
    except Open311Error as exc:
        return _errors(exc)
    access_record(user, tip, node_path=tip.node.path, via="open311")
    return [_request_out(tip, _stations([tip]))]
