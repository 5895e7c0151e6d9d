"""Typed Intacct records, parsed from either element casing.

Field names are the lower-case Intacct field names (alias = upper case). Empty elements
become None (or [] for owned lists); dotted names from readByQuery ("BILLTO.EMAIL1") are
nested like the objects `read`/`query` return; decimals are Decimal; dates accept
mm/dd/yyyy and ISO; timestamps MM/DD/YYYY HH:MM:SS and ISO.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bisync.intacct.xml import Record, as_list


def parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    for fmt in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text[:10], fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not an Intacct date: {text!r}")


def parse_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    text = str(value).strip()
    if not text:
        return None
    for fmt in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an Intacct timestamp: {text!r}") from None


def _owned_list(value: Any) -> list[Any]:
    """An owned-children container: <X><child/>..</X> in any casing, or repeated <X>."""
    items: list[Any] = []
    for entry in as_list(value):
        if isinstance(entry, Mapping) and len(entry) == 1:
            (inner,) = entry.values()
            # The single key is the child element name (sodocumententry / SODOCUMENTENTRY).
            if inner is None or isinstance(inner, list | Mapping):
                items.extend(x for x in as_list(inner) if x not in (None, ""))
                continue
        if entry not in (None, ""):
            items.append(entry)
    return items


def _direct_list(value: Any) -> list[Any]:
    """Repeated siblings (<INVOICES>..</INVOICES><INVOICES>..</INVOICES>)."""
    return [v for v in as_list(value) if v not in (None, "")]


IDate = Annotated[date | None, BeforeValidator(parse_date)]
ITimestamp = Annotated[datetime | None, BeforeValidator(parse_datetime)]


def _nest_dotted(record: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if "." not in key:
            if isinstance(out.get(key), dict) and isinstance(value, dict):
                out[key].update(value)
            else:
                out[key] = value
            continue
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            existing = node.get(part)
            if not isinstance(existing, dict):
                existing = {}
                node[part] = existing
            node = existing
        node[parts[-1]] = value
    return out


def _empty_to_none(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, Mapping):
        return {k: _empty_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_empty_to_none(v) for v in value]
    return value


class IntacctModel(BaseModel):
    """Base: upper-case aliases, unknown fields kept (extra), empty -> None."""

    model_config = ConfigDict(
        alias_generator=str.upper,
        validate_by_name=True,
        validate_by_alias=True,
        extra="allow",
        frozen=True,
    )
    OBJECT: ClassVar[str] = ""
    ELEMENT_NAMES: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            upper = {
                (k.upper() if isinstance(k, str) and not k.startswith(("@", "#")) else k): v
                for k, v in data.items()
            }
            return _empty_to_none(_nest_dotted(upper))
        return data


Owned = BeforeValidator(_owned_list)
Repeated = BeforeValidator(_direct_list)


class MailAddress(IntacctModel):
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    countrycode: str | None = None


class Contact(IntacctModel):
    contactname: str | None = None
    printas: str | None = None
    companyname: str | None = None
    email1: str | None = None
    email2: str | None = None
    phone1: str | None = None
    mailaddress: MailAddress | None = None


class Term(IntacctModel):
    name: str | None = None


class Customer(IntacctModel):
    OBJECT = "CUSTOMER"
    recordno: str | None = None
    customerid: str | None = None
    name: str | None = None
    status: str | None = None
    displaycontact: Contact | None = None
    billto: Contact | None = None
    termname: str | None = None
    currency: str | None = None
    parentid: str | None = None
    taxid: str | None = None
    totaldue: Decimal | None = None
    whencreated: ITimestamp = None
    whenmodified: ITimestamp = None
    megaentityid: str | None = None


class _ArEntry(IntacctModel):
    """The line fields A/R invoices and adjustments share."""

    recordno: str | None = None
    recordkey: str | None = None
    line_no: int | None = None
    glaccountno: str | None = None
    accountno: str | None = None
    amount: Decimal | None = None
    trx_amount: Decimal | None = None
    entrydescription: str | None = None
    locationid: str | None = None
    departmentid: str | None = None


class ArInvoiceItem(_ArEntry):
    OBJECT = "ARINVOICEITEM"
    itemid: str | None = None
    itemname: str | None = None


class ArInvoice(IntacctModel):
    OBJECT = "ARINVOICE"
    recordno: str | None = None
    recordid: str | None = None
    docnumber: str | None = None
    customerid: str | None = None
    customername: str | None = None
    custrec: str | None = None
    description: str | None = None
    whencreated: IDate = None
    whenposted: IDate = None
    whendue: IDate = None
    whenpaid: IDate = None
    termname: str | None = None
    currency: str | None = None
    basecurr: str | None = None
    totalentered: Decimal | None = None
    trx_totalentered: Decimal | None = None
    totalpaid: Decimal | None = None
    trx_totalpaid: Decimal | None = None
    totaldue: Decimal | None = None
    trx_totaldue: Decimal | None = None
    state: str | None = None
    modulekey: str | None = None
    megaentityid: str | None = None
    whenmodified: ITimestamp = None
    shipto: Contact | None = None
    billto: Contact | None = None
    items: Annotated[list[ArInvoiceItem], Owned] = Field(default_factory=list, alias="ARINVOICEITEMS")


class ArAdjustmentItem(_ArEntry):
    OBJECT = "ARADJUSTMENTITEM"


class ArAdjustment(IntacctModel):
    OBJECT = "ARADJUSTMENT"
    recordno: str | None = None
    recordid: str | None = None
    docnumber: str | None = None
    customerid: str | None = None
    customername: str | None = None
    description: str | None = None
    currency: str | None = None
    state: str | None = None
    totalentered: Decimal | None = None
    trx_totalentered: Decimal | None = None
    totalpaid: Decimal | None = None
    trx_totalpaid: Decimal | None = None
    totaldue: Decimal | None = None
    trx_totaldue: Decimal | None = None
    whencreated: IDate = None
    whenposted: IDate = None
    whenmodified: ITimestamp = None
    megaentityid: str | None = None
    items: Annotated[list[ArAdjustmentItem], Owned] = Field(default_factory=list, alias="ARADJUSTMENTITEMS")


class ArPaymentDetail(IntacctModel):
    recordno: str | None = None
    recordkey: str | None = None
    paymentamount: Decimal | None = None
    trx_paymentamount: Decimal | None = None
    adjustmentkey: str | None = None
    trx_adjustmentamount: Decimal | None = None
    inlinekey: str | None = None
    postedadvancekey: str | None = None


class ArPaymentApplication(IntacctModel):
    """One entry of a payment's INVOICES or CREDITS (read side)."""

    record: str | None = None
    recordtype: str | None = None  # credits: ri invoice, ra adjustment, rp overpayment, rr advance
    recordid: str | None = None
    docnumber: str | None = None
    parentpayment: str | None = None
    appliedamount: Decimal | None = None
    paymentamount: Decimal | None = None
    creditamount: Decimal | None = None
    discountamount: Decimal | None = None
    totalentered: Decimal | None = None
    totalpaid: Decimal | None = None
    totaldue: Decimal | None = None
    whencreated: IDate = None
    whendue: IDate = None
    whenpaid: IDate = None


class ArPayment(IntacctModel):
    OBJECT = "ARPYMT"
    ELEMENT_NAMES = ("ARPAYMENT",)
    recordno: str | None = None
    recordid: str | None = None
    customerid: str | None = None
    customername: str | None = None
    state: str | None = None  # V = reversed
    paymentmethod: str | None = None
    paymenttype: str | None = None
    financialentity: str | None = None
    undepositedaccountno: str | None = None
    currency: str | None = None
    enteredcurrency: str | None = None
    receiptdate: IDate = None
    paymentdate: IDate = None
    docnumber: str | None = None
    description: str | None = None
    totalentered: Decimal | None = None
    trx_totalentered: Decimal | None = None
    whenmodified: ITimestamp = None
    auwhencreated: ITimestamp = None
    megaentityid: str | None = None
    details: Annotated[list[ArPaymentDetail], Owned] = Field(default_factory=list, alias="ARPYMTDETAILS")
    invoices: Annotated[list[ArPaymentApplication], Repeated] = Field(default_factory=list)
    credits: Annotated[list[ArPaymentApplication], Repeated] = Field(default_factory=list)

    @property
    def is_reversed(self) -> bool:
        return self.state == "V"


class SoDocumentEntry(IntacctModel):
    OBJECT = "SODOCUMENTENTRY"
    recordno: str | None = None
    dochdrno: str | None = None
    line_no: int | None = None
    itemid: str | None = None
    itemdesc: str | None = None
    quantity: Decimal | None = None
    uiprice: Decimal | None = None
    uivalue: Decimal | None = None
    trx_price: Decimal | None = None
    trx_value: Decimal | None = None
    multiplier: Decimal | None = None
    memo: str | None = None
    revrecstartdate: IDate = None


class SoDocumentSubtotal(IntacctModel):
    recordno: str | None = None
    description: str | None = None
    total: Decimal | None = None
    trx_total: Decimal | None = None


class SoDocument(IntacctModel):
    OBJECT = "SODOCUMENT"
    recordno: str | None = None
    docid: str | None = None
    docno: str | None = None
    docparid: str | None = None
    custvendid: str | None = None
    custvendname: str | None = None
    custrec: str | None = None
    state: str | None = None
    currency: str | None = None
    whencreated: IDate = None
    whenposted: IDate = None
    whendue: IDate = None
    total: Decimal | None = None
    trx_total: Decimal | None = None
    trx_totalpaid: Decimal | None = None
    ponumber: str | None = None
    message: str | None = None
    contractid: str | None = None
    prrecordkey: str | None = None
    billtokey: str | None = None
    whenmodified: ITimestamp = None
    megaentityid: str | None = None
    term: Term | None = None
    shipto: Contact | None = None
    billto: Contact | None = None
    entries: Annotated[list[SoDocumentEntry], Owned] = Field(default_factory=list, alias="SODOCUMENTENTRIES")
    subtotals: Annotated[list[SoDocumentSubtotal], Owned] = Field(default_factory=list)


class LocationEntity(IntacctModel):
    OBJECT = "LOCATIONENTITY"
    recordno: str | None = None
    locationid: str | None = None
    name: str | None = None
    currency: str | None = None
    status: str | None = None


class GlAccount(IntacctModel):
    OBJECT = "GLACCOUNT"
    recordno: str | None = None
    accountno: str | None = None
    title: str | None = None
    accounttype: str | None = None
    normalbalance: str | None = None
    status: str | None = None


class CheckingAccount(IntacctModel):
    OBJECT = "CHECKINGACCOUNT"
    recordno: str | None = None
    bankaccountid: str | None = None
    bankaccountno: str | None = None
    glaccountno: str | None = None
    bankname: str | None = None
    currency: str | None = None
    status: str | None = None


M = TypeVar("M", bound=IntacctModel)

MODELS: tuple[type[IntacctModel], ...] = (
    Customer,
    ArInvoice,
    ArInvoiceItem,
    ArAdjustment,
    ArAdjustmentItem,
    ArPayment,
    SoDocument,
    SoDocumentEntry,
    LocationEntity,
    GlAccount,
    CheckingAccount,
)
_BY_NAME: dict[str, type[IntacctModel]] = {}
for _model in MODELS:
    _BY_NAME[_model.OBJECT.upper()] = _model
    for _name in _model.ELEMENT_NAMES:
        _BY_NAME[_name.upper()] = _model


def model_for(name: str) -> type[IntacctModel] | None:
    """The model of an object, listtype or record element name, in either casing."""
    return _BY_NAME.get(name.upper())


def parse_records(model: type[M], records: Iterable[Record]) -> list[M]:
    return [model.model_validate(r) for r in records]
