"""Reads of fangyi.enforcement, scoped to the user's jurisdiction and role."""


def daylist_section(user, day):
    """This app's part of the day list (fangyi.observation.selectors.DAYLIST_SOURCES)."""
    return None
