from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartiesConfig(AppConfig):
    name = "comptoir.parties"
    label = "parties"
    verbose_name = _("Parties")

    def ready(self) -> None:
        from comptoir.core.selectors import HOME_TILES
        from comptoir.parties.selectors import portfolio_tile

        if portfolio_tile not in HOME_TILES:
            HOME_TILES.insert(0, portfolio_tile)
