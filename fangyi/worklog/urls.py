"""Pages (filled in by its work)."""

urlpatterns: list = []
