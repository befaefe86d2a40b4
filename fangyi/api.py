"""The REST API: one NinjaAPI, each app's router mounted under it.

Authentication is the browser session (with CSRF, and the second factor where the role needs
it) or a personal token sent as `Authorization: Bearer fy_...`.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from fangyi.core.errors import DomainError
from fangyi.core.middleware import needs_second_factor
from fangyi.core.services import token_authenticate


class TokenAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request, token):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
            request.fangyi_via_token = True
        return user


class VerifiedSessionAuth(SessionAuth):
    """The browser session, but only once the second factor is done where the role needs it."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user and needs_second_factor(request):
            return None
        return user


api = NinjaAPI(
    title="Fangyi API",
    version="1",
    description="Community epidemic prevention and control. Every list is scoped to the "
    "caller's jurisdiction and role; a record outside it answers 404.",
    auth=[TokenAuth(), VerifiedSessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
)


def _field_of(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "data")]
    return ".".join(parts) or "__all__"


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    errors = [
        {"field": _field_of(e.get("loc", [])), "message": e.get("msg", "")} for e in exc.errors
    ]
    first = errors[0] if errors else {"field": "__all__", "message": ""}
    return api.create_response(
        request,
        {"detail": _("Invalid value for %(field)s: %(message)s") % first, "errors": errors},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def auth_error(request, exc):
    return api.create_response(
        request, {"detail": _("Log in or send a valid API token.")}, status=401
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


from fangyi.core.api import router as core_router  # noqa: E402
from fangyi.enforcement.api import router as enforcement_router  # noqa: E402
from fangyi.guests.api import router as guests_router  # noqa: E402
from fangyi.health.api import router as health_router  # noqa: E402
from fangyi.linkage.api import router as linkage_router  # noqa: E402
from fangyi.notify.api import router as notify_router  # noqa: E402
from fangyi.notify.api_delivery import router as delivery_router  # noqa: E402
from fangyi.notify.api_inbound import router as inbound_router  # noqa: E402
from fangyi.observation.api import router as observation_router  # noqa: E402
from fangyi.patrols.api import router as patrols_router  # noqa: E402
from fangyi.patrols.api_posts import router as posts_router  # noqa: E402
from fangyi.people.api import router as people_router  # noqa: E402
from fangyi.quarantine.api import router as quarantine_router  # noqa: E402
from fangyi.quarantine.api_refusals import router as refusals_router  # noqa: E402
from fangyi.screening.api import router as screening_router  # noqa: E402
from fangyi.tips.api import router as tips_router  # noqa: E402
from fangyi.tips.open311 import router as open311_router  # noqa: E402
from fangyi.transfer.api import router as transfer_router  # noqa: E402
from fangyi.worklog.api import router as worklog_router  # noqa: E402

api.add_router("/", core_router)
api.add_router("/", people_router)
api.add_router("/", health_router)
api.add_router("/", screening_router)
api.add_router("/", observation_router)
api.add_router("/", transfer_router)
api.add_router("/", tips_router)
api.add_router("/open311/v2/", open311_router)
api.add_router("/", linkage_router)
api.add_router("/", enforcement_router)
api.add_router("/", quarantine_router)
api.add_router("/", refusals_router)
api.add_router("/", guests_router)
api.add_router("/", patrols_router)
api.add_router("/", posts_router)
api.add_router("/", worklog_router)
api.add_router("/", notify_router)
api.add_router("/", delivery_router)
api.add_router("/", inbound_router)
