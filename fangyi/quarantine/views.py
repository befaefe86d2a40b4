"""Pages of fangyi.quarantine."""
