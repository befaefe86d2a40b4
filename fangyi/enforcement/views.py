"""Pages of fangyi.enforcement."""
