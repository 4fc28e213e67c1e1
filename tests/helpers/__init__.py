"""Helpers the tests import by name, one module per area; conftest.py files hold fixtures."""
