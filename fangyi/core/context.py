from fangyi.core import access
from fangyi.core.middleware import needs_second_factor


def fangyi(request):
    """`can.person_view`, `can.audit_view`, ...: what the user's role may do, for templates."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    if needs_second_factor(request):
        return {"otp_pending": True}
    return {"can": {action.replace(".", "_"): access.can(user, action) for action in access.POLICY}}
