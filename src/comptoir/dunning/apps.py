from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DunningConfig(AppConfig):
    name = "comptoir.dunning"
    label = "dunning"
    verbose_name = _("Dunning")

    def ready(self) -> None:
        from comptoir.core.selectors import HOME_TILES
        from comptoir.dunning import selectors

        for tile in (selectors.worst_payers_tile, selectors.promises_tile):
            if tile not in HOME_TILES:
                HOME_TILES.append(tile)
