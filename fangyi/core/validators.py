"""Validators for the identifiers people give us: ID numbers, phones, dates.

Each returns a normalised value or raises DomainError naming the field, with a translated message.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import DomainError

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# GB/T 2260 province-level prefixes (first two digits of the administrative division code).
PROVINCES = {
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
    "83",
    "91",
}


def id_check_digit(first17: str) -> str:
    total = sum(map(operator.mul, map(int, first17), ID_WEIGHTS))
    return ID_CHECK[total % 11]


@dataclass(frozen=True)
class ResidentId:
    number: str  # always the 18-character form
    birth_date: dt.date
    sex: str  # "M" or "F"
    region: str
    upgraded_from_15: bool = False


def fold_width(raw: str) -> str:
    """Full-width digits, letters and signs (４２０５, Ｘ, ＋, －, the ideographic space), as
    Chinese input methods type them, folded to their ASCII forms (NFKC). Every ID number and
    phone is read through this, as the import already reads its cells."""
    return unicodedata.normalize("NFKC", raw or "")


def parse_resident_id(
    raw: str, field: str = "id_number", *, today: dt.date | None = None
) -> ResidentId:
    """Validate a mainland resident ID number (GB 11643-1999).

    18 characters: 6-digit region, 8-digit birth date, 3-digit sequence (odd for men), check
    character (0-9 or X). Old 15-digit numbers (region, YYMMDD born in 19YY, sequence) are
    accepted and upgraded to the 18-character form by inserting "19" and computing the check
    character, which is how the issuing authority converted them; the stored value is always 18.
    """
    value = re.sub(r"\s", "", fold_width(raw)).upper()
    upgraded = False
    if re.fullmatch(r"[0-9]{15}", value):
        first17 = value[:6] + "19" + value[6:]
        value = first17 + id_check_digit(first17)
        upgraded = True
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        raise DomainError(
            _("An ID number has 18 characters: 17 digits, then a digit or X."), field=field
        )
    if value[:2] not in PROVINCES:
        raise DomainError(_("The ID number starts with an unknown region code."), field=field)
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise DomainError(
            _("The birth date inside the ID number is not a real date."), field=field
        ) from None
    if birth > (today or timezone.localdate()) or birth.year < 1890:
        raise DomainError(_("The birth date inside the ID number is impossible."), field=field)
    if id_check_digit(value[:17]) != value[17]:
        raise DomainError(
            _("The check digit of this ID number is wrong: please check each digit."), field=field
        )
    sex = "M" if int(value[16]) % 2 else "F"
    return ResidentId(value, birth, sex, value[:6], upgraded)


PHONE_MOBILE = re.compile(r"1[3-9][0-9]{9}")
PHONE_LANDLINE = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?")
PHONE_INTL = re.compile(r"\+[0-9]{6,15}")


def normalize_phone(raw: str, field: str = "phone") -> str:
    """A mainland mobile (11 digits), a landline with area code, or +country and digits."""
    value = re.sub(r"[\s()]", "", fold_width(raw))
    if not value:
        return ""
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if PHONE_MOBILE.fullmatch(value) or PHONE_LANDLINE.fullmatch(value):
        return value
    if PHONE_INTL.fullmatch(value):
        return value
    raise DomainError(
        _(
            "Enter a mobile number of 11 digits, a landline with its area code, "
            "or + and the country code."
        ),
        field=field,
    )


def check_coordinate(value: Any, field: str, limit: int) -> Decimal | None:
    """A latitude (limit 90) or longitude (limit 180) in degrees, to six decimals (about
    0.1 m); empty is None. NaN, infinities and anything past the limit are refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter a number."), field=field) from None
    if not number.is_finite() or not -limit <= number <= limit:
        raise DomainError(
            _("Must lie between -%(limit)d and %(limit)d degrees.") % {"limit": limit},
            field=field,
        )
    return number.quantize(Decimal("0.000001"))


def check_past_date(
    value: dt.date | None, field: str, *, allow_none: bool = True, today: dt.date | None = None
) -> None:
    if value is None:
        if not allow_none:
            raise DomainError(_("This date is required."), field=field)
        return
    if value > (today or timezone.localdate()):
        raise DomainError(_("This date is in the future."), field=field)
    if value.year < 1890:
        raise DomainError(_("This date is too far in the past."), field=field)


def check_length(value: str, field: str, maximum: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("This field is required."), field=field)
    if len(value) > maximum:
        raise DomainError(
            _("Use at most %(max)d characters (this has %(n)d).")
            % {"max": maximum, "n": len(value)},
            field=field,
        )
    return value


def mask_tail(value: str) -> str:
    """Keep the first three and last four characters, for ID numbers and phones in the audit trail."""
    if not value:
        return value
    if len(value) <= 7:
        return (
            "*" * (len(value) - min(4, len(value) // 2))
            + value[len(value) - min(4, len(value) // 2) :]
        )
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


# --- text the public reads ----------------------------------------------------------------------

# Digits may be written with spaces, dashes or dots between them, and in full width.
_SEP = r"[\s\-.\u2010-\u2015\u30fc]?"
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d" + rf"(?:{_SEP}\d){{8}}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}" + rf"{_SEP}[1-9](?:{_SEP}\d){{6,7}}(?!\d)")
_ID = re.compile(r"(?<![\dA-Za-z])(?:\d{17}[\dXx]|\d{15})(?![\dA-Za-z])")


def public_text_findings(text: str, names: list[str] | tuple[str, ...] = ()) -> list[str]:
    """What in `text` must not be shown to the public: "phone", "id_number", and each of
    `names` (people of the registry) that appears in it. Full-width digits count as digits."""
    plain = unicodedata.normalize("NFKC", text or "")
    found = []
    if _MOBILE.search(plain) or _LANDLINE.search(plain):
        found.append("phone")
    if _ID.search(plain):
        found.append("id_number")
    for name in names:
        name = unicodedata.normalize("NFKC", (name or "").strip())
        if len(name) >= 2 and name in plain and name not in found:
            found.append(name)
    return found


def check_public_text(text: str, field: str, names: list[str] | tuple[str, ...] = ()) -> str:
    """`text` unchanged, or the DomainError naming `field` when it holds a phone number, an ID
    number or a person's name: a tip's answer is read on the public tracking page by whoever
    has its code."""
    found = public_text_findings(text, names)
    if not found:
        return text
    what = []
    if "phone" in found:
        what.append(_("a phone number"))
    if "id_number" in found:
        what.append(_("an ID number"))
    people = [f for f in found if f not in ("phone", "id_number")]
    if people:
        what.append(_("the name %(names)s") % {"names": "、".join(people)})
    raise DomainError(
        _("The public can read this text: take out %(what)s.") % {"what": "; ".join(what)},
        field=field,
    )
