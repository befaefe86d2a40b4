"""Pages of fangyi.guests."""
