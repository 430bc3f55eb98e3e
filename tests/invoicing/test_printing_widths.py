"""The invoice template sizes its columns on the widest entry Comptoir picks for it."""

from __future__ import annotations

from comptoir.invoicing.printing import widest_entries


def test_the_widest_entry_is_the_longest_text_in_bytes_the_first_of_equals() -> None:
    rows = [
        {"quantity": "12", "unit": "kg"},
        {"quantity": "1,5", "unit": "pce"},
        {"quantity": "2,5", "unit": "h"},
        # "è" is two bytes in UTF-8, as Typst's str.len() counts: four bytes, the longest.
        {"quantity": "10", "unit": "mèt"},
    ]
    assert widest_entries(rows, ["quantity", "unit"]) == {"quantity": "1,5", "unit": "mèt"}


def test_no_row_gives_empty_entries() -> None:
    assert widest_entries([], ["quantity"]) == {"quantity": ""}
