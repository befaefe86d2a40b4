"""Pages of the outbox's delivery log (filled in by its work)."""

urlpatterns: list = []
