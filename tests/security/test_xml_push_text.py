"""Hostile text through the real push path: Blixo sandbox -> signed webhook -> webhook Lambda ->
queue -> push Lambda -> Intacct sandbox, read back from the sandbox's store and through the
client, compared to the exact string typed in Blixo.

Already covered elsewhere (not repeated here):
- tests/unit/intacct/test_xml.py: every CUSTOMER text field and the legacy invoice fields
  escaped in a built request; a DTD / internal entity / external entity refused by
  `parse_response`; non-gateway bodies are `ResponseFormatError`.
- tests/integration/intacct_client/test_xml_values.py: the client refuses \\x00, \\x0b, \\x1b,
  \\x08, \\ufffe, \\uffff and lone surrogates in a customer id naming the field, the rest of
  the batch still going; nothing sent in a transaction; carriage returns and specials
  round-trip a customer NAME against the sandbox.
- tests/integration/intacct_client/test_hostile_gateway.py: broken, gzip-bomb, oversize and
  deeply nested bodies are typed errors.
- tests/integration/foundation/test_webhook_hostile.py: a lone surrogate in a webhook body is
  a 400 naming the place (so it never reaches the push through Blixo).
- tests/unit/mapping/test_mappings.py: an invoice line memo with specials in the built request.

What this module adds: every object the push writes (customer, A/R invoice with its line,
tax and discount memos, A/R adjustment of a credit note, A/R payment, the convenience-fee
A/R invoice) end to end, and characters XML 1.0 cannot carry in each of them becoming that
object's sync error, naming the field, with nothing of that object in Intacct.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bisync.intacct.filters import F
from tests.integration.foundation import conftest as foundation
from tests.integration.foundation.conftest import LambdaContext, sqs
from tests.integration.push import conftest as push
from tests.integration.push.conftest import TENANT, World

# The push harness's fixtures, shared rather than copied (pytest finds them by name here).
_fast_moto_transactions = foundation._fast_moto_transactions
aws_env = foundation.aws_env
table = foundation.table
aws = foundation.aws
intacct_sandbox = push.intacct_sandbox
blixo_sandbox = push.blixo_sandbox
world = push.world

# No outer whitespace: Intacct trims a value's ends, so carriage returns sit inside.
TEXT = "Ab<c & d]]>e \"q\" 's' <CUSTOMERID>X</CUSTOMERID> l1\rl2\r\nl3 \U0001f600 \U0001d11e z"
# For fields Blixo caps at 64 characters (numbers, purchase order).
SHORT = "N<&>]]>\"'\r\n\r\U0001f600\U0001d11e<CUSTOMERID>X</CUSTOMERID>"
# The payment reference reaches Intacct's DOCNUMBER cut to 30 characters.
REF = "R<&]]>\"'\r\n\r\U0001f600\U0001d11e<X>y"
assert len(REF) <= 30
assert len(SHORT) <= 64


def rows(world: World, obj: str, **match: str) -> list[dict[str, Any]]:
    return [r for r in world.dump(obj) if all(r.get(k) == v for k, v in match.items())]


def queried(world: World, obj: str, key: str, fields: list[str]) -> dict[str, Any]:
    """The record as the client parses it from a real `query` response."""
    found = list(world.intacct.query(obj, fields, filter=F.eq("RECORDNO", key)))
    assert len(found) == 1, found
    return found[0]


def errors(world: World) -> dict[tuple[str, str], str]:
    return {(e.object_type, e.object_id): e.message for e in world.aws.store.errors.list(TENANT)}


# ------------------------------------------------------------------ text that must arrive exactly


def test_customer_text_reaches_intacct_exactly(world: World) -> None:
    address = {
        "line1": TEXT,
        "line2": SHORT,
        "city": "C<&>\r\nity \U0001d11e",
        "state": "S&\rT",
        "postalCode": "<Z>&1",
        "country": "U]]>S",
    }
    customer = world.customer(TEXT, customerNo="SEC-C1", phone="+1 <555> & \U0001f600", address=address)
    assert world.pump() == []
    assert errors(world) == {}
    [row] = rows(world, "CUSTOMER", CUSTOMERID="SEC-C1")
    assert row["NAME"] == TEXT
    assert row["DISPLAYCONTACT.PHONE1"] == "+1 <555> & \U0001f600"
    assert row["DISPLAYCONTACT.MAILADDRESS.ADDRESS1"] == TEXT
    assert row["DISPLAYCONTACT.MAILADDRESS.ADDRESS2"] == SHORT
    assert row["DISPLAYCONTACT.MAILADDRESS.CITY"] == "C<&>\r\nity \U0001d11e"
    assert row["DISPLAYCONTACT.MAILADDRESS.STATE"] == "S&\rT"
    assert row["DISPLAYCONTACT.MAILADDRESS.ZIP"] == "<Z>&1"
    assert row["DISPLAYCONTACT.MAILADDRESS.COUNTRY"] == "U]]>S"
    # Back through the gateway's response and the client's parser, still exact.
    read = queried(world, "CUSTOMER", str(row["RECORDNO"]), ["NAME", "DISPLAYCONTACT.MAILADDRESS.ADDRESS1"])
    assert read["NAME"] == TEXT
    assert world.mapping("customer", customer.id).intacct_key == "SEC-C1"

    # An update carries the text exactly too.
    world.blixo.customers.update(customer.id, {"name": SHORT}, idempotency_key=world.key("u"))
    assert world.pump() == []
    [row] = rows(world, "CUSTOMER", CUSTOMERID="SEC-C1")
    assert row["NAME"] == SHORT


def test_invoice_number_po_and_every_line_memo_reach_intacct_exactly(world: World) -> None:
    customer = world.customer(TEXT, customerNo="SEC-I1")
    invoice = world.blixo.invoices.create(
        {
            "customerId": customer.id,
            "invoiceNo": SHORT,
            "purchaseOrder": SHORT[::-1],
            "issueDate": "2026-11-20",
            "dueDate": "2026-12-20",
            "items": [
                {"name": TEXT, "description": SHORT, "quantity": 2, "unitPrice": "40.00"},
                {"name": "Plain", "quantity": 1, "unitPrice": "20.00"},
            ],
            "taxes": [{"name": "Tax <&>\r\n\U0001f600", "amount": "5.00"}],
            "discounts": [{"name": "Disc ]]> 'x'", "amount": "10.00"}],
        },
        idempotency_key=world.key("i"),
    )
    assert world.pump() == []
    assert errors(world) == {}
    key = world.mapping("invoice", invoice.id).intacct_key
    [header] = rows(world, "ARINVOICE", RECORDNO=key)
    assert header["RECORDID"] == SHORT
    assert header["DOCNUMBER"] == SHORT[::-1]
    assert header["CUSTOMERNAME"] == TEXT
    assert Decimal(header["TOTALENTERED"]) == Decimal("95.00")
    lines = sorted(rows(world, "ARINVOICEITEM", RECORDKEY=key), key=lambda r: int(r["LINE_NO"]))
    assert [(line["ENTRYDESCRIPTION"], Decimal(line["AMOUNT"])) for line in lines] == [
        (f"{TEXT} - {SHORT}", Decimal("80.00")),
        ("Plain", Decimal("20.00")),
        ("Tax <&>\r\n\U0001f600", Decimal("5.00")),
        ("Disc ]]> 'x'", Decimal("-10.00")),
    ]
    read = queried(world, "ARINVOICE", key, ["RECORDID", "DOCNUMBER"])
    assert (read["RECORDID"], read["DOCNUMBER"]) == (SHORT, SHORT[::-1])

    # An edit (update_invoice, lines rewritten) keeps the text exact as well.
    world.blixo.invoices.update(
        invoice.id,
        {"invoiceNo": REF, "items": [{"name": SHORT, "quantity": 1, "unitPrice": "30.00"}], "taxes": []},
        idempotency_key=world.key("e"),
    )
    assert world.pump() == []
    [header] = rows(world, "ARINVOICE", RECORDNO=key)
    assert header["RECORDID"] == REF
    first = min(rows(world, "ARINVOICEITEM", RECORDKEY=key), key=lambda r: int(r["LINE_NO"]))
    assert first["ENTRYDESCRIPTION"] == SHORT


def test_credit_note_number_and_line_memos_reach_intacct_exactly(world: World) -> None:
    customer = world.customer(SHORT, customerNo="SEC-N1")
    credit = world.blixo.credit_notes.create(
        {
            "customerId": customer.id,
            "creditNoteNo": SHORT,
            "issueDate": "2026-11-21",
            "items": [{"name": TEXT, "description": REF, "quantity": 1, "unitPrice": "25.00"}],
        },
        idempotency_key=world.key("cn"),
    )
    assert world.pump() == []
    assert errors(world) == {}
    key = world.mapping("credit_note", credit.id).intacct_key
    [header] = rows(world, "ARADJUSTMENT", RECORDNO=key)
    assert header["RECORDID"] == SHORT
    assert header["CUSTOMERNAME"] == SHORT
    [line] = rows(world, "ARADJUSTMENTITEM", RECORDKEY=key)
    assert line["ENTRYDESCRIPTION"] == f"{TEXT} - {REF}"
    assert Decimal(line["AMOUNT"]) == Decimal("-25.00")
    assert queried(world, "ARADJUSTMENT", key, ["RECORDID"])["RECORDID"] == SHORT


def test_payment_reference_and_the_fee_invoice_reach_intacct_exactly(world: World) -> None:
    customer = world.customer(TEXT, customerNo="SEC-P1")
    invoice = world.invoice(customer.id, "100.00", invoiceNo=SHORT)
    payment = world.pay(
        customer.id,
        "52.00",
        {"type": "invoice", "invoiceId": invoice.id, "amount": "50.00"},
        {"type": "convenience_fee", "amount": "2.00"},
        method="credit_card",
        reference=REF,
    )
    assert world.pump() == []
    assert errors(world) == {}
    key = world.mapping("payment", payment.id).intacct_key
    [row] = rows(world, "ARPYMT", RECORDNO=key)
    assert row["DOCNUMBER"] == REF
    assert Decimal(row["TOTALENTERED"]) == Decimal("52.00")
    assert queried(world, "ARPYMT", key, ["DOCNUMBER"])["DOCNUMBER"] == REF
    # The fee invoice carries no text the user typed but its customer's name (copied by
    # Intacct from the customer this push created) and the fixed memo.
    fee_key = world.mapping("convenience_fee", payment.id).intacct_key
    [fee] = rows(world, "ARINVOICE", RECORDNO=fee_key)
    assert fee["RECORDID"] == f"CF-{payment.id}"
    assert fee["CUSTOMERNAME"] == TEXT
    [fee_line] = rows(world, "ARINVOICEITEM", RECORDKEY=fee_key)
    assert (fee_line["ENTRYDESCRIPTION"], Decimal(fee_line["AMOUNT"])) == ("Convenience fee", Decimal("2.00"))
    world.assert_ledgers_agree()


# ------------------------------------------------------------------ characters XML cannot carry

# What the Blixo sandbox (like Blixo) accepts although XML 1.0 cannot carry it.
THROUGH_BLIXO = ["\x0b", "\x1b", "\ufffe"]
# (Each test below sends one object per character and field in a single pump, each object
# checked on its own: fewer harness setups, the same assertions.)


def written(world: World) -> dict[str, int]:
    return {obj: len(world.dump(obj)) for obj in ("CUSTOMER", "ARINVOICE", "ARADJUSTMENT", "ARPYMT")}


def assert_refused(world: World, object_type: str, object_id: str, field: str, char: str) -> None:
    message = errors(world).get((object_type, object_id))
    assert message is not None, errors(world)
    assert f"{field} contains U+{ord(char):04X} at position " in message, message
    assert "a character XML 1.0 cannot carry; it is refused, not altered" in message


def test_a_customer_name_xml_cannot_carry_is_its_sync_error(world: World) -> None:
    customers = {
        char: world.customer(f"Bad{char}Name", customerNo=f"SEC-X1-{i}")
        for i, char in enumerate(THROUGH_BLIXO)
    }
    assert world.pump() == []  # business errors: the messages are done, not retried
    for char, customer in customers.items():
        assert_refused(world, "customer", customer.id, "CUSTOMER.NAME", char)
        assert world.mapping("customer", customer.id) is None
    assert len(errors(world)) == len(THROUGH_BLIXO)
    assert written(world) == {"CUSTOMER": 0, "ARINVOICE": 0, "ARADJUSTMENT": 0, "ARPYMT": 0}


INVOICE_FIELDS: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
    ("invoiceno", lambda c: {"invoiceNo": f"INV{c}{ord(c)}"}),
    ("ponumber", lambda c: {"purchaseOrder": f"PO{c}"}),
    (
        "invoiceitems.lineitem.memo",
        lambda c: {"items": [{"name": f"Li{c}ne", "quantity": 1, "unitPrice": "10.00"}]},
    ),
    (
        "invoiceitems.lineitem.memo",
        lambda c: {
            "items": [{"name": "Ok", "quantity": 1, "unitPrice": "10.00"}],
            "taxes": [{"name": f"Tax{c}", "amount": "1.00"}],
        },
    ),
]


def test_an_invoice_text_xml_cannot_carry_is_its_sync_error(world: World) -> None:
    customer = world.customer("Clean Customer", customerNo="SEC-X2")
    sent: list[tuple[str, str, str]] = []
    for field, body in INVOICE_FIELDS:
        for char in THROUGH_BLIXO:
            fields = {"issueDate": "2026-11-20", "dueDate": "2026-12-20", **body(char)}
            invoice = world.blixo.invoices.create(
                {
                    "customerId": customer.id,
                    "items": [{"name": "x", "quantity": 1, "unitPrice": "10.00"}],
                    **fields,
                },
                idempotency_key=world.key("i"),
            )
            sent.append((invoice.id, field, char))
    assert world.pump() == []
    for invoice_id, field, char in sent:
        assert_refused(world, "invoice", invoice_id, field, char)
        assert world.mapping("invoice", invoice_id) is None
    # The (clean) customer went; nothing of any invoice did.
    assert written(world) == {"CUSTOMER": 1, "ARINVOICE": 0, "ARADJUSTMENT": 0, "ARPYMT": 0}


CREDIT_NOTE_FIELDS: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
    (
        "adjustmentno",
        lambda c: {"creditNoteNo": f"CN{c}{ord(c)}", "items": [{"name": "R", "unitPrice": "5.00"}]},
    ),
    ("aradjustmentitems.lineitem.memo", lambda c: {"items": [{"name": f"R{c}", "unitPrice": "5.00"}]}),
]


def test_a_credit_note_text_xml_cannot_carry_is_its_sync_error(world: World) -> None:
    customer = world.customer("Clean Customer", customerNo="SEC-X3")
    sent: list[tuple[str, str, str]] = []
    for field, body in CREDIT_NOTE_FIELDS:
        for char in THROUGH_BLIXO:
            credit = world.blixo.credit_notes.create(
                {"customerId": customer.id, "issueDate": "2026-11-21", **body(char)},
                idempotency_key=world.key("cn"),
            )
            sent.append((credit.id, field, char))
    assert world.pump() == []
    for credit_id, field, char in sent:
        assert_refused(world, "credit_note", credit_id, field, char)
        assert world.mapping("credit_note", credit_id) is None
    assert written(world) == {"CUSTOMER": 1, "ARINVOICE": 0, "ARADJUSTMENT": 0, "ARPYMT": 0}


def test_a_payment_reference_xml_cannot_carry_is_its_sync_error(world: World) -> None:
    customer = world.customer("Clean Customer", customerNo="SEC-X4")
    sent: list[tuple[str, str]] = []
    for fee in (False, True):
        for char in THROUGH_BLIXO:
            invoice = world.invoice(customer.id, "100.00")
            apps: list[dict[str, Any]] = [{"type": "invoice", "invoiceId": invoice.id, "amount": "40.00"}]
            if fee:
                apps.append({"type": "convenience_fee", "amount": "2.00"})
            payment = world.pay(
                customer.id,
                "42.00" if fee else "40.00",
                *apps,
                method="credit_card",
                reference=f"CHK{char}9",
            )
            sent.append((payment.id, char))
    assert world.pump() == []
    for payment_id, char in sent:
        assert_refused(world, "payment", payment_id, "refid", char)
        assert world.mapping("payment", payment_id) is None
        # No fee invoice either: an unpaid CF- invoice would leave the customer owing the fee
        # in Intacct (the push once posted it before the payment was refused).
        assert world.mapping("convenience_fee", payment_id) is None
    # The invoices they pay went; no payment and no fee invoice did.
    assert written(world) == {"CUSTOMER": 1, "ARINVOICE": len(sent), "ARADJUSTMENT": 0, "ARPYMT": 0}
    assert [r for r in world.dump("ARINVOICE") if str(r.get("RECORDID", "")).startswith("CF-")] == []


# \x00 and lone surrogates never come out of Blixo (its API refuses \x00; the webhook refuses a
# lone surrogate with a 400). Should one reach the queue anyway, the push refuses it too.


def pump_rewritten(world: World, name: str) -> list[str]:
    """Deliver the webhooks, then run the push Lambda on the queued jobs with the object's
    name in their event set to `name` (which Blixo itself would refuse) and the object dated
    after what Blixo holds, so the push takes the event's copy over its read of the object (as
    for a lagging read). Returns the event ids; the batch must not fail (a business error,
    not a retry)."""
    world.blixo_admin("POST", "/_sandbox/webhooks/drain", {"timeoutSeconds": 20})
    client = sqs()
    reply = client.receive_message(
        QueueUrl=world.aws.push_queue_url,
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["All"],
        VisibilityTimeout=0,
    )
    messages = reply.get("Messages", [])
    assert len(messages) == 1
    event_ids = []
    for message in messages:
        body = json.loads(message["Body"])
        event_ids.append(body["event_id"])
        event = json.loads(body["event_json"])
        event["data"]["object"]["name"] = name
        event["data"]["object"]["updatedAt"] = "2099-01-01T00:00:00Z"
        body["event_json"] = json.dumps(event)  # ensure_ascii: \u0000 and \ud800 as escapes
        message["Body"] = json.dumps(body)
        client.delete_message(QueueUrl=world.aws.push_queue_url, ReceiptHandle=message["ReceiptHandle"])
    result = world.push.lambda_handler({"Records": [world._record(m) for m in messages]}, LambdaContext())
    assert result["batchItemFailures"] == []
    return event_ids


def test_a_nul_in_a_queued_customer_name_is_its_sync_error(world: World) -> None:
    customer = world.customer("Placeholder", customerNo="SEC-X5")
    pump_rewritten(world, "Nul\x00Name")
    assert_refused(world, "customer", customer.id, "CUSTOMER.NAME", "\x00")
    assert written(world)["CUSTOMER"] == 0


def test_a_lone_surrogate_in_a_queued_customer_name_is_a_sync_error_not_a_crash(world: World) -> None:
    """The push re-parses the queued event strictly: a lone surrogate is refused naming the
    place (never the value). The event no longer yields its object's id, so the error is filed
    under the event id; the batch itself does not fail (it once raised out of the Lambda)."""
    world.customer("Placeholder", customerNo="SEC-X6")
    [event_id] = pump_rewritten(world, "Sur\ud800Name")
    message = errors(world).get(("customer", event_id))
    assert message == (
        "the queued event does not parse: data.object.name holds a lone surrogate (\\ud800-\\udfff)"
    )
    assert written(world)["CUSTOMER"] == 0
