"""`comptoir verify-ledger`: recompute the hash chain of issued invoices and credit notes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from comptoir.core.management.base import ComptoirCommand
from comptoir.invoicing.ledger import verify_ledger


class Command(ComptoirCommand):
    help = gettext_lazy(
        "Recompute the hash chain of issued documents; exit 1 naming the first that differs."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = verify_ledger()
        if broken is not None and not broken.number:
            raise CommandError(
                _("Ledger broken: %(reason)s; the %(checked)s document(s) before are intact.")
                % {"reason": broken.reason, "checked": checked}
            )
        if broken is not None:
            raise CommandError(
                _(
                    "Ledger broken at %(number)s (chain index %(index)s): %(reason)s; "
                    "the %(checked)s document(s) before it are intact."
                )
                % {
                    "number": broken.number,
                    "index": broken.chain_index,
                    "reason": broken.reason,
                    "checked": checked,
                }
            )
        self.stdout.write(
            ngettext(
                "Ledger intact: %(count)d document verified.",
                "Ledger intact: %(count)d documents verified.",
                checked,
            )
            % {"count": checked}
        )
