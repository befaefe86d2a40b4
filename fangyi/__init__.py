"""Fangyi (防疫): community epidemic prevention and control."""
