"""Document lines shared by invoices and credit notes: items, taxes and discounts as GL lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bisync.blixo.models import Adjustment, CreditNote, Invoice, LineItem
from bisync.mapping.common import ZERO, Dimensions, MappingError, cents, default_dimensions, line_routing
from bisync.settings import TenantSettings


@dataclass(frozen=True)
class GlLine:
    glaccountno: str
    amount: Decimal  # positive = what the customer owes
    memo: str | None
    dims: Dimensions

    def canonical(self) -> dict[str, Any]:
        return {
            "gl": self.glaccountno,
            "amount": str(self.amount),
            "memo": self.memo,
            "dims": [self.dims.locationid, self.dims.departmentid, self.dims.classid, self.dims.projectid],
        }


def item_amount(item: LineItem) -> Decimal:
    if item.amount is not None:
        return item.amount
    if item.unit_price is None:
        return ZERO
    return cents(item.quantity * item.unit_price)


def _memo(item: LineItem) -> str | None:
    parts = [p for p in (item.name, item.description) if p]
    text = " - ".join(parts) if parts else None
    return text[:1000] if text else None


def _adjustment_lines(
    adjustments: Sequence[Adjustment], total: Decimal, *, gl: str, label: str, dims: Dimensions, sign: int
) -> list[GlLine]:
    """One line per tax/discount; their amounts must add up to the document's total for them."""
    lines = [GlLine(gl, sign * a.amount, a.name or label, dims) for a in adjustments if a.amount]
    listed = sum((a.amount for a in adjustments), ZERO)
    if total and listed != total:
        # The flat total is what Blixo charges: a remainder goes on its own line.
        lines.append(GlLine(gl, sign * (total - listed), label, dims))
    return lines


def document_lines(settings: TenantSettings, doc: Invoice | CreditNote) -> list[GlLine]:
    """Revenue lines (metadata may route each one), then tax lines, then discount lines
    (negative). Refuses a document whose lines do not add up to its total to the cent."""
    accounts = settings.accounts
    dims = default_dimensions(settings)
    lines: list[GlLine] = []
    for item in doc.items:
        amount = item_amount(item)
        if amount == 0:
            continue
        gl, line_dims = line_routing(item.metadata, accounts.revenue_account, dims)
        lines.append(GlLine(gl, amount, _memo(item), line_dims))
    lines += _adjustment_lines(
        doc.taxes, doc.tax_total, gl=accounts.tax_account, label="Tax", dims=dims, sign=1
    )
    lines += _adjustment_lines(
        doc.discounts, doc.discount_total, gl=accounts.discount_account, label="Discount", dims=dims, sign=-1
    )
    summed = sum((line.amount for line in lines), ZERO)
    if summed != doc.total:
        raise MappingError(f"the lines add up to {summed}, not to the total {doc.total}; not synced")
    if not lines:
        raise MappingError("a document without a non-zero line cannot be posted in Intacct")
    return lines
