"""`make bench`: per-call cost tables (numbers to read, never assertions)."""
