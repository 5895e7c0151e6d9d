"""`tenant connect`'s checks: can this tenant's credentials do what its flows need?

Each problem is said in plain words an operator can act on (a wrong password, a sender not
authorised for the company, a module without permission, an account that does not exist),
never with a credential in it. Plain logic over the two clients."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel

from bisync.blixo import errors as blixo_errors
from bisync.intacct import functions as fn
from bisync.intacct.errors import AuthenticationError, IntacctError
from bisync.intacct.filters import F
from bisync.intacct.outcome import Outcome
from bisync.intacct.xml import XmlValueError, check_text
from bisync.settings import TenantSettings

# The objects the flows read and write, and the Intacct module each belongs to.
OBJECTS = {
    "CUSTOMER": "Accounts Receivable",
    "SODOCUMENT": "Order Entry",
    "ARINVOICE": "Accounts Receivable",
    "ARADJUSTMENT": "Accounts Receivable",
    "ARPYMT": "Accounts Receivable",
}
PERMISSION_ERRORNO = "PL04000005"


class Problem(BaseModel):
    what: str  # intacct, blixo, account
    message: str


Execute = Callable[[Sequence[fn.Function]], list[Outcome]]


def _login_problem(exc: IntacctError, company_id: str) -> Problem:
    text = " ".join(filter(None, [exc.description, exc.description2, exc.message])).lower()
    if "not authorized" in text or "authorization" in text:
        return Problem(
            what="intacct",
            message=f"the sender ID is not authorised for company {company_id}: add it under Company > "
            "Setup > Company > Security > Web Services authorizations",
        )
    # The gateway itself refuses a sender (XMLGW_JPP0002, or "Partner ID" at control level)
    # before any company sign-in is tried.
    if exc.errorno == "XMLGW_JPP0002" or "partner id" in text:
        return Problem(what="intacct", message="Intacct does not know this sender ID and sender password")
    if "entity" in text or "location" in text:
        return Problem(what="intacct", message="the entity does not exist in this company (check --entity)")
    if "sign-in" in text or "password" in text or "credentials" in text:
        return Problem(
            what="intacct",
            message=f"Intacct refused the sign-in: the user ID, company ID ({company_id}) or a password is "
            "wrong (or the user is locked)",
        )
    return Problem(what="intacct", message=f"Intacct refused the session: {exc.description or exc.message}")


def check_intacct(execute: Execute, settings: TenantSettings, company_id: str) -> list[Problem]:
    """Open a session, read one record of each object, and look the mapped accounts up."""
    show_private = not settings.entity_id
    reads = [fn.query(obj, ["RECORDNO"], pagesize=1, show_private=show_private) for obj in OBJECTS]
    accounts = settings.accounts
    gl = sorted(
        {
            a
            for a in (
                accounts.revenue_account,
                accounts.tax_account,
                accounts.discount_account,
                accounts.ar_account,
                accounts.undeposited_funds_account,
                accounts.convenience_fee_account,
            )
            if a
        }
    )
    banks = sorted(
        {r.bank_account_id for r in accounts.bank_accounts} | set(filter(None, [accounts.bank_account_id]))
    )
    definitions = sorted({*settings.invoice_definitions, *settings.return_definitions})
    # A character Intacct's XML cannot carry: no such account or definition can exist there.
    unsendable = []
    for label, values in (("account", [*gl, *banks]), ("transaction definition", definitions)):
        for value in values:
            try:
                check_text(value, label)
            except XmlValueError as exc:
                unsendable.append(Problem(what="account", message=f"a mapped {exc}"))
    if unsendable:
        return unsendable
    lookups = [
        fn.query("GLACCOUNT", ["ACCOUNTNO"], filter=F.in_("ACCOUNTNO", gl), pagesize=100),
        fn.query("SODOCUMENTPARAMS", ["DOCID", "STATUS"], filter=F.in_("DOCID", definitions), pagesize=100),
    ]
    if banks:
        lookups.append(
            fn.query("CHECKINGACCOUNT", ["BANKACCOUNTID"], filter=F.in_("BANKACCOUNTID", banks), pagesize=100)
        )
    try:
        outcomes = execute([*reads, *lookups])
    except AuthenticationError as exc:
        return [_login_problem(exc, company_id)]
    except IntacctError as exc:
        return [Problem(what="intacct", message=f"the Intacct gateway could not be used: {exc.message}")]
    problems: list[Problem] = []
    for (obj, module), outcome in zip(OBJECTS.items(), outcomes, strict=False):
        if outcome.done:
            continue
        error = outcome.error
        text = " ".join(filter(None, [error.description, error.description2] if error else [])).lower()
        if error is not None and (
            error.errorno == PERMISSION_ERRORNO or "permission" in text or "subscri" in text
        ):
            problems.append(
                Problem(
                    what="intacct",
                    message=f"the web-services user may not read {obj}: give its role {module} permissions "
                    f"(or subscribe the company to {module})",
                )
            )
        else:
            problems.append(Problem(what="intacct", message=f"{obj} could not be read: {_text(error)}"))
    found = outcomes[len(OBJECTS) :]
    problems += _missing(found[0], "ACCOUNTNO", gl, "GL account")
    if outcomes[list(OBJECTS).index("SODOCUMENT")].done:
        problems += _definitions(found[1], definitions)
    if banks:
        problems += _missing(found[2], "BANKACCOUNTID", banks, "bank account")
    return problems


def _definitions(outcome: Outcome, wanted: list[str]) -> list[Problem]:
    """The Order Entry transaction definitions the pull reads must exist and be active."""
    if not outcome.done:
        return [
            Problem(
                what="definition",
                message=f"the transaction definitions could not be read: {_text(outcome.error)}",
            )
        ]
    status = {str(r.get("DOCID")): str(r.get("STATUS") or "active") for r in outcome.records}
    problems = []
    for docid in wanted:
        if docid not in status:
            problems.append(
                Problem(
                    what="definition",
                    message=f"Order Entry transaction definition {docid!r} (in the settings) does not exist "
                    "in Intacct: fix invoice_definitions / return_definitions with `tenant set`",
                )
            )
        elif status[docid].lower() != "active":
            problems.append(
                Problem(what="definition", message=f"transaction definition {docid!r} is inactive in Intacct")
            )
    return problems


def _missing(outcome: Outcome, field: str, wanted: list[str], label: str) -> list[Problem]:
    if not outcome.done:
        return [Problem(what="account", message=f"the {label}s could not be read: {_text(outcome.error)}")]
    present = {str(r.get(field)) for r in outcome.records}
    return [
        Problem(
            what="account",
            message=f"{label} {value} (in the account mappings) does not exist in Intacct: create it or "
            f"change the mapping with `tenant set`",
        )
        for value in wanted
        if value not in present
    ]


def _text(error: IntacctError | None) -> str:
    if error is None:
        return "unknown error"
    return error.description2 or error.description or error.message


def check_blixo(list_customers: Callable[[], object]) -> list[Problem]:
    """The API key works (one page of customers)."""
    try:
        list_customers()
    except blixo_errors.AuthenticationError:
        return [
            Problem(what="blixo", message="Blixo refused the API key (401): check it in Blixo's settings")
        ]
    except blixo_errors.BlixoError as exc:
        return [Problem(what="blixo", message=f"Blixo could not be reached with the key: {exc}")]
    return []
