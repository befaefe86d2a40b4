"""Static files go out compressed, under hashed names, cached for a year (issue 12, item 18).

They were served uncompressed with a 60-second cache: a field page on a phone at night fetched
its CSS and scripts again on every visit, over one bar of signal.
"""

from __future__ import annotations

import gzip

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory
from whitenoise.middleware import WhiteNoiseMiddleware


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--no-input", verbosity=0)
    staticfiles_storage._setup()  # reread the manifest just written
    yield settings.STATIC_ROOT
    staticfiles_storage._setup()


def test_after_collectstatic_pages_name_hashed_files_served_gzipped_for_a_year(collected):
    url = Template("{% load static %}{% static 'fangyi/app.css' %}").render(Context())
    assert url.startswith("/static/fangyi/app.") and url.endswith(".css") and url.count(".") == 2
    middleware = WhiteNoiseMiddleware(lambda request: HttpResponse(status=404))
    response = middleware(RequestFactory().get(url, HTTP_ACCEPT_ENCODING="gzip, br"))
    assert response.status_code == 200
    assert response["Content-Encoding"] in ("gzip", "br")
    assert "max-age=315360000" in response["Cache-Control"]
    assert "immutable" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    if response["Content-Encoding"] == "gzip":
        assert b".muted" in gzip.decompress(body)


def test_without_collectstatic_the_plain_name_still_works(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "empty"
    staticfiles_storage._setup()
    try:
        url = Template("{% load static %}{% static 'fangyi/app.css' %}").render(Context())
        assert url == "/static/fangyi/app.css"
    finally:
        staticfiles_storage._setup()


@pytest.mark.django_db
def test_every_page_has_a_favicon(client):
    page = client.get("/login/").content.decode()
    assert 'rel="icon"' in page and "favicon" in page
    assert client.get("/static/favicon.svg").status_code == 200
