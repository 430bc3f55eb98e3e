from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "comptoir.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from comptoir.core.selectors import HOME_TILES
        from comptoir.invoicing.models import Invoice
        from comptoir.payments import selectors

        post_save.connect(
            selectors.open_settlement_on_issue,
            sender=Invoice,
            dispatch_uid="payments_open_settlement_on_issue",
        )
        for tile in (selectors.overdue_tile, selectors.dso_tile):
            if tile not in HOME_TILES:
                HOME_TILES.append(tile)
