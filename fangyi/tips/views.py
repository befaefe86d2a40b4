"""Pages of fangyi.tips."""
