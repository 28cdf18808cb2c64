"""The weekly allocation optimizer (model v1) on OR-Tools."""
