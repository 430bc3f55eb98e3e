"""`comptoir verify-ledger`: recompute the hash chain of issued invoices and credit notes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from comptoir.invoicing.ledger import verify_ledger


class Command(BaseCommand):
    help = "Recompute the hash chain of issued documents; exit 1 naming the first that differs."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = verify_ledger()
        if broken is not None:
            raise CommandError(
                f"ledger broken at {broken.number or '?'} (chain index {broken.chain_index}): "
                f"{broken.reason}; {checked} document(s) before it are intact"
            )
        self.stdout.write(f"ledger intact: {checked} document(s) verified")
