"""Reads of fangyi.quarantine, scoped to the user's jurisdiction, role and (for site staff) place."""


def daylist_section(user, day):
    """This part of the day list (fangyi.observation.selectors.DAYLIST_SOURCES)."""
    return None
