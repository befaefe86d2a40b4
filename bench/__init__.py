"""Benchmarks of the registry: `python -m bench NAME --n N`, or `python -m bench all`.

Each benchmark runs against a throwaway database (a fresh SQLite file in a temporary folder,
or a fresh PostgreSQL database when DATABASE_URL is set) and prints one JSON line last.
"""
