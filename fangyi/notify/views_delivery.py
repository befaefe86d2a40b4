"""The administrators' delivery log: the outbox with its statuses, attempts and the gateway's
answers, filters, failures first, and a retry for a message given up. Thin: the selectors
read (scoped, numbers masked), fangyi.notify.delivery.message_retry writes."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangyi.core.web import form_submit, staff_view

from . import delivery
from . import selectors_delivery as selectors
from .models import MessageStatus

PAGE = 50


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(required=False)
    channel = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(required=False)
    failures = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.fields["status"].choices = everything + selectors.status_choices()
        self.fields["channel"].choices = everything + selectors.channel_choices()
        self.fields["kind"].choices = everything + [(k, k) for k in selectors.kind_choices()]


class RetryForm(forms.Form):
    pass


@staff_view
def delivery_list(request):
    user = request.user
    form = DeliveryFilterForm(request.GET or None)
    cd = form.cleaned_data if form.is_bound and form.is_valid() else {}
    rows = selectors.message_list(
        user,
        status=cd.get("status", ""),
        channel=cd.get("channel", ""),
        kind=cd.get("kind", ""),
        failures_first=bool(cd.get("failures")),
    )
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    return render(
        request,
        "notify/delivery_list.html",
        {
            "form": form,
            "page": page,
            "rows": [(m, selectors.shown_to(m), selectors.shown_text(m)) for m in page.object_list],
            "query": query,
            "given_up": MessageStatus.GIVEN_UP,
        },
    )


@require_POST
@staff_view
def delivery_retry(request, pk: int):
    user = request.user
    message = selectors.message_get(user, pk)
    form = RetryForm(request.POST)
    done, _status = form_submit(form, lambda cd: delivery.message_retry(user, message))
    if done is not None:
        messages.success(request, _("The message is queued again."))
    else:
        for error in form.non_field_errors():
            messages.error(request, str(error))
    back = request.POST.get("next", "")
    if back.startswith("/deliveries/") and "//" not in back:
        return redirect(back)
    return redirect("delivery_list")
