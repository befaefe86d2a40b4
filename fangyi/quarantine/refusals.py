"""Refusals of a placement, every persuasion attempt, and how a refusal ends (agreed, home
quarantine allowed by health staff, enforcement referral); the printable quarantine notice."""


def daylist_section(user, day):
    """Open refusals for the day list (fangyi.observation.selectors.DAYLIST_SOURCES)."""
    return None
