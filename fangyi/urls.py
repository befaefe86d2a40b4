from django.urls import include, path

from fangyi.api import api
from fangyi.core import views as core
from fangyi.people import views as people

urlpatterns = [
    path("", core.home, name="home"),
    path("login/", core.login_view, name="login"),
    path("login/otp/", core.otp_verify, name="otp_verify"),
    path("logout/", core.logout_view, name="logout"),
    path("account/", core.account, name="account"),
    path("account/2fa/setup/", core.otp_setup, name="otp_setup"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("jurisdictions/", core.tree, name="tree"),
    path("jurisdictions/<int:pk>/", core.node_edit, name="node_edit"),
    path("users/", core.user_list, name="user_list"),
    path("users/new/", core.user_form, name="user_create"),
    path("users/<int:pk>/", core.user_form, name="user_edit"),
    path("audit/", core.audit, name="audit"),
    path("people/", people.person_list, name="person_list"),
    path("people/new/", people.person_create, name="person_create"),
    path("people/check-id/", people.person_check_id, name="person_check_id"),
    path("people/<int:pk>/", people.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", people.person_edit, name="person_edit"),
    path("people/<int:pk>/merge/", people.person_merge, name="person_merge"),
    path("people/<int:pk>/delete/", people.person_delete, name="person_delete"),
    path("people/<int:pk>/history/", people.person_history, name="person_history"),
    path("households/", people.household_list, name="household_list"),
    path("households/new/", people.household_form, name="household_create"),
    path("households/<int:pk>/", people.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", people.household_form, name="household_edit"),
    path("households/<int:pk>/delete/", people.household_delete, name="household_delete"),
    path("households/<int:pk>/history/", people.household_history, name="household_history"),
    path("places/", people.place_list, name="place_list"),
    path("places/new/", people.place_form, name="place_create"),
    path("places/<int:pk>/", people.place_detail, name="place_detail"),
    path("places/<int:pk>/edit/", people.place_form, name="place_edit"),
    path("", include("fangyi.health.urls")),
    path("", include("fangyi.screening.urls")),
    path("", include("fangyi.observation.urls")),
    path("", include("fangyi.transfer.urls")),
]
