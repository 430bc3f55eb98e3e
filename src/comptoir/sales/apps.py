from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "comptoir.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from comptoir.core.selectors import HOME_TILES
        from comptoir.sales.views import follow_up_tile

        if follow_up_tile not in HOME_TILES:
            HOME_TILES.append(follow_up_tile)
