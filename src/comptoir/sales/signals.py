"""Signals other apps listen to, so that sales never imports them (dependencies point inward)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction when what an order still has to deliver may have gone down:
# on every change of its lines (a line ordered in larger quantity has nothing to take off)
# and when the order, or its undelivered rest, is cancelled. Arguments: ``order``, ``by``
# (the user) and ``remaining``, {order line id: quantity still to deliver}, 0 for a line
# about to be removed. Stock brings the order's delivery notes still to ship in line.
order_to_deliver_reduced = Signal()
