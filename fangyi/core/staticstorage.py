"""Static files with hashed names and gzip copies, and a fallback where collectstatic never ran.

whitenoise's CompressedManifestStaticFilesStorage gives `app.3f2a….css` and its `.gz`: a name
that changes with the content can be cached for a year, and the field pages then load from the
phone's cache at night on one bar of signal. Its one catch is that `{% static %}` fails when
the manifest is missing (tests, a checkout that never ran collectstatic): there the plain name
is used, served from the source folders (WHITENOISE_USE_FINDERS) as before.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFiles(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # no manifest, or a file collectstatic did not see
            return name
