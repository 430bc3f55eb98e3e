from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomerFileConfig(AppConfig):
    name = "comptoir.customerfile"
    label = "customerfile"
    verbose_name = _("Customer file")
