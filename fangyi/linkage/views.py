"""Pages of fangyi.linkage."""
