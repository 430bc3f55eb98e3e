from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StockConfig(AppConfig):
    name = "comptoir.stock"
    label = "stock"
    verbose_name = _("Stock")

    def ready(self) -> None:
        # Sales does not import stock: it tells, and the delivery notes follow the order.
        from comptoir.sales.signals import order_to_deliver_reduced
        from comptoir.stock.actions import on_order_to_deliver_reduced

        order_to_deliver_reduced.connect(
            on_order_to_deliver_reduced, dispatch_uid="stock.trim_deliveries"
        )
