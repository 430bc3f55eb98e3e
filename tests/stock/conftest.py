"""Stock tests use the sales fixtures (company, customers, products, quotes, orders)."""

from tests.sales.conftest import *  # noqa: F403
from tests.sales.conftest import (  # noqa: F401 - autouse fixtures `import *` leaves out
    _english,
    _isolated_files_and_mail,
    _stop_schematron_worker,
)
