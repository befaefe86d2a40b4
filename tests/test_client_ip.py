"""The client's address behind a proxy: only the address the proxy appended is believed."""

from __future__ import annotations

from django.test import RequestFactory, override_settings

from fangyi.core.middleware import client_ip


def _request(forwarded: str | None):
    meta = {"REMOTE_ADDR": "10.0.0.1"}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_without_a_proxy_the_header_is_ignored():
    assert client_ip(_request("1.2.3.4")) == "10.0.0.1"


@override_settings(FANGYI_TRUST_X_FORWARDED_FOR=True)
def test_behind_a_proxy_the_last_address_counts_not_the_forged_first():
    assert client_ip(_request("6.6.6.6, 203.0.113.9")) == "203.0.113.9"
    assert client_ip(_request("203.0.113.9")) == "203.0.113.9"
    assert client_ip(_request(None)) == "10.0.0.1"
