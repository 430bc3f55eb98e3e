"""Who may read and change the catalogue and the price lists (django-rules, autodiscovered).

Everyone with a role reads products, families and VAT rates; the back office (administrator,
sales manager, sales assistant) changes them. Price lists are read by the back office and the
accountant, and by a sales rep when the list is general, for the category of one of the rep's
customers, or for one of the rep's customers. Purchase costs and margins are not shown to reps.
"""

from __future__ import annotations

from typing import Any

import rules

from comptoir.core.roles import is_any_role, is_back_office, is_sales_rep, reads_everything


@rules.predicate
def is_price_list_of_own_customers(user: Any, price_list: Any) -> bool:
    """The list is general, or for one of the user's customers or their category."""
    if price_list is None:
        return True
    from comptoir.catalogue.models import PriceListScope
    from comptoir.parties.models import Party

    if price_list.scope == PriceListScope.GENERAL:
        return True
    portfolio = Party.objects.filter(sales_rep=user)
    if price_list.scope == PriceListScope.CUSTOMER:
        return portfolio.filter(pk=price_list.party_id).exists()
    if price_list.scope == PriceListScope.CATEGORY:
        return portfolio.filter(category_id=price_list.category_id).exists()
    return False


for noun in ("product", "productfamily", "vatrate"):
    rules.add_perm(f"catalogue.view_{noun}", is_any_role)
for noun in ("product", "productfamily", "pricelist", "pricerule"):
    rules.add_perm(f"catalogue.add_{noun}", is_back_office)
    rules.add_perm(f"catalogue.change_{noun}", is_back_office)
    rules.add_perm(f"catalogue.delete_{noun}", is_back_office)

rules.add_perm(
    "catalogue.view_pricelist", reads_everything | (is_sales_rep & is_price_list_of_own_customers)
)
rules.add_perm("catalogue.publish_pricelist", is_back_office)
rules.add_perm("catalogue.view_purchase_cost", reads_everything)
rules.add_perm("catalogue.check_price", is_any_role)
