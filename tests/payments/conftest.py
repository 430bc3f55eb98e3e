"""Payments fixtures: a company ready to invoice, customers, and issued invoices."""

from tests.billing_fixtures import (  # noqa: F401 - fixtures are found by name
    _archive_in_tmp,
    company,
    customer,
    issue,
    make_customer,
    make_user,
)
