"""Pages of fangyi.notify (filled in by its work)."""

urlpatterns: list = []
