"""The REST surface: auth, envelopes, validation errors, 404s, paging, updatedAfter, metadata."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from sandbox.blixo import SandboxHandle
from tests.integration.blixo_sandbox.conftest import KEY, Api, money_json


def test_missing_and_wrong_keys_are_401_with_a_clear_message(sandbox: SandboxHandle) -> None:
    missing = requests.get(f"{sandbox.url}/customers", timeout=5)
    wrong = requests.get(f"{sandbox.url}/customers", auth=("nope-nope-nope", ""), timeout=5)
    bearer = requests.get(f"{sandbox.url}/customers", headers={"Authorization": f"Bearer {KEY}"}, timeout=5)

    assert missing.status_code == wrong.status_code == bearer.status_code == 401
    assert "No API key provided" in missing.json()["message"]
    assert "Invalid API key" in wrong.json()["message"]
    assert "nope-nope-nope" not in wrong.text  # the key is masked
    assert "Basic" in bearer.json()["message"]
    assert missing.headers["WWW-Authenticate"].startswith("Basic")
    ok = requests.get(f"{sandbox.url}/customers", auth=(KEY, ""), timeout=5)
    assert ok.status_code == 200


def test_create_get_update_delete_customer_with_envelopes(api: Api) -> None:
    created = api.post(
        "/customers",
        {
            "name": "Acme",
            "customerNo": "C-1",
            "email": "ap@acme.test",
            "address": {"line1": "1 Main", "city": "Austin", "country": "US"},
            "currency": "usd",
            "metadata": {"intacct.recordNo": "42"},
        },
    )
    assert created.status_code == 201
    cust = created.json()["data"]
    assert cust["id"].startswith("cus_")
    assert cust["currency"] == "USD"
    assert cust["status"] == "active"
    assert cust["address"]["city"] == "Austin"
    assert cust["createdAt"] == cust["updatedAt"]
    assert cust["createdAt"].endswith("Z")

    assert api.ok("GET", f"/customers/{cust['id']}") == cust

    updated = api.ok("PATCH", f"/customers/{cust['id']}", {"status": "archived", "metadata": {"x": "y"}})
    assert updated["status"] == "archived"
    assert updated["metadata"] == {"intacct.recordNo": "42", "x": "y"}  # metadata merges
    assert updated["updatedAt"] > cust["updatedAt"]

    deleted = api.delete(f"/customers/{cust['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["data"] == {"id": cust["id"], "deleted": True}
    assert api.get(f"/customers/{cust['id']}").status_code == 404


def test_unknown_ids_are_404_with_message(api: Api) -> None:
    for path in ("/customers/cus_x", "/invoices/inv_x", "/credit-notes/cn_x", "/payments/pay_x"):
        resp = api.get(path)
        assert resp.status_code == 404, path
        assert "No such" in resp.json()["message"]
    assert api.post("/invoices/inv_x/void").status_code == 404
    assert api.patch("/payments/pay_x", {"reference": "r"}).status_code == 404
    assert api.get("/nothing-here").status_code == 404


def test_wrong_method_is_405(api: Api) -> None:
    resp = api.delete("/payments/pay_1")
    assert resp.status_code == 405
    assert "PATCH" in resp.headers["Allow"]


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/customers", {}, "name"),
        ("/customers", {"name": ""}, "name"),
        ("/customers", {"name": "A", "email": "not-an-email"}, "email"),
        ("/customers", {"name": "A", "currency": "dollars"}, "currency"),
        ("/customers", {"name": "A", "status": "gone"}, "status"),
        ("/customers", {"name": "A", "nmae": "typo"}, "nmae"),
        ("/customers", {"name": "A", "address": {"zip": "1"}}, "address.zip"),
        ("/invoices", {"items": [{"name": "x", "unitPrice": 1}]}, "customerId"),
        ("/invoices", {"customerId": "cus_missing", "items": [{"name": "x", "unitPrice": 1}]}, "customerId"),
        ("/payments", {"customerId": "cus_missing", "amount": 1}, "customerId"),
    ],
)
def test_validation_errors_name_the_param(api: Api, path: str, body: dict[str, object], param: str) -> None:
    resp = api.post(path, body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["param"] == param
    assert resp.json()["message"]


def test_document_field_validation(api: Api) -> None:
    cust = api.customer()["id"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"items": []}, "items"),
        ({"items": [{"name": "x", "quantity": 0, "unitPrice": 1}]}, "items[0].quantity"),
        ({"items": [{"name": "x", "unitPrice": "1.005"}]}, "items[0].unitPrice"),
        ({"items": [{"name": "x", "unitPrice": "abc"}]}, "items[0].unitPrice"),
        ({"items": [{"name": "x", "unitPrice": True}]}, "items[0].unitPrice"),
        ({"items": [{"name": "x", "unitPrice": 2, "quantity": 2, "amount": 5}]}, "items[0].amount"),
        ({"items": [{"unitPrice": 2}]}, "items[0].name"),
        ({"items": [{"name": "x", "unitPrice": 2}], "issueDate": "2024-02-30"}, "issueDate"),
        (
            {"items": [{"name": "x", "unitPrice": 2}], "issueDate": "2024-02-10", "dueDate": "2024-02-01"},
            "dueDate",
        ),
        ({"items": [{"name": "x", "unitPrice": 2}], "total": 3}, "total"),
        ({"items": [{"name": "x", "unitPrice": 2}], "balance": 1}, "balance"),
        ({"items": [{"name": "x", "unitPrice": 2}], "status": "paid"}, "status"),
        ({"items": [{"name": "x", "unitPrice": 2}], "discounts": [{"amount": 3}]}, "discounts"),
        ({"items": [{"name": "x", "unitPrice": 2}], "taxes": [{"rate": 150}]}, "taxes[0].rate"),
    ]
    for fields, param in cases:
        resp = api.post("/invoices", {"customerId": cust, **fields})
        assert resp.status_code == 400, (fields, resp.text)
        assert resp.json()["param"] == param, (fields, resp.json())


def test_bad_json_body_is_400(api: Api, sandbox: SandboxHandle) -> None:
    resp = api.session.post(f"{sandbox.url}/customers", data=b"{not json", timeout=5)
    assert resp.status_code == 400
    assert "JSON" in resp.json()["message"]
    resp = api.session.post(f"{sandbox.url}/customers", data=b"[1, 2]", timeout=5)
    assert resp.status_code == 400


def test_metadata_limits(api: Api) -> None:
    too_many = {f"k{i}": "v" for i in range(21)}
    long_key = {"k" * 41: "v"}
    long_value = {"k": "v" * 256}
    not_string = {"k": 5}
    for meta in (too_many, long_key, long_value, not_string):
        resp = api.post("/customers", {"name": "A", "metadata": meta})
        assert resp.status_code == 400, meta
        assert resp.json()["param"] == "metadata"
    edge = {**{f"k{i}": "v" for i in range(19)}, "k" * 40: "v" * 255}
    assert api.customer(metadata=edge)["metadata"] == edge

    cust = api.customer(metadata={f"k{i}": "v" for i in range(20)})
    over = api.patch(f"/customers/{cust['id']}", {"metadata": {"one-more": "v"}})
    assert over.status_code == 400
    assert over.json()["param"] == "metadata"
    # A null value removes a key, which makes room.
    swapped = api.ok("PATCH", f"/customers/{cust['id']}", {"metadata": {"k0": None, "one-more": "v"}})
    assert "k0" not in swapped["metadata"]
    assert swapped["metadata"]["one-more"] == "v"


def test_numbers_are_unique(api: Api) -> None:
    api.customer(customerNo="C-1")
    dup = api.post("/customers", {"name": "B", "customerNo": "C-1"})
    assert dup.status_code == 400
    assert dup.json()["param"] == "customerNo"
    cust = api.customer()
    assert cust["customerNo"].startswith("CUST-")
    inv = api.invoice(cust["id"], invoiceNo="INV-7")
    assert inv["invoiceNo"] == "INV-7"
    dup_inv = api.post("/invoices", {"customerId": cust["id"], "invoiceNo": "INV-7", "items": inv["items"]})
    assert dup_inv.status_code == 400
    assert dup_inv.json()["param"] == "invoiceNo"


def test_paging_is_stable_and_reports_totals(api: Api) -> None:
    ids = [api.customer(name=f"C{i}")["id"] for i in range(7)]
    seen: list[str] = []
    for page in (1, 2, 3):
        body = api.get("/customers", params={"page": page, "perPage": 3}).json()
        assert body["page"] == page
        assert body["perPage"] == 3
        assert body["total"] == 7
        seen.extend(c["id"] for c in body["data"])
    assert seen == ids  # creation order, no gaps or repeats
    beyond = api.get("/customers", params={"page": 4, "perPage": 3}).json()
    assert beyond["data"] == []
    assert beyond["total"] == 7

    # An update does not move a record between pages.
    api.ok("PATCH", f"/customers/{ids[0]}", {"name": "renamed"})
    assert [c["id"] for c in api.get("/customers", params={"perPage": 3}).json()["data"]] == ids[:3]
    assert api.get("/customers").json()["perPage"] == 100


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"perPage": 101}, "perPage"),
        ({"perPage": 0}, "perPage"),
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"updatedAfter": "yesterday"}, "updatedAfter"),
        ({"updated_after": "2024-01-01T00:00:00Z"}, "updated_after"),
    ],
)
def test_bad_list_parameters(api: Api, params: dict[str, object], param: str) -> None:
    resp = api.get("/customers", params=params)
    assert resp.status_code == 400
    assert resp.json()["param"] == param


def test_updated_after_is_strict_and_sees_updates(api: Api) -> None:
    first = api.customer(name="first")
    second = api.customer(name="second")
    third = api.customer(name="third")

    after_second = api.get("/customers", params={"updatedAfter": second["updatedAt"]}).json()
    assert [c["id"] for c in after_second["data"]] == [third["id"]]
    assert after_second["total"] == 1

    touched = api.ok("PATCH", f"/customers/{first['id']}", {"phone": "555"})
    later = api.get("/customers", params={"updatedAfter": third["updatedAt"]}).json()["data"]
    assert [c["id"] for c in later] == [first["id"]]
    assert api.get("/customers", params={"updatedAfter": touched["updatedAt"]}).json()["data"] == []
    # A PATCH that changes nothing does not bump updatedAt.
    same = api.ok("PATCH", f"/customers/{first['id']}", {"phone": "555"})
    assert same["updatedAt"] == touched["updatedAt"]
    # Offsets are understood.
    assert api.get("/customers", params={"updatedAfter": "2000-01-01T00:00:00+02:00"}).json()["total"] == 3


def test_customer_id_filter_on_documents(api: Api) -> None:
    a, b = api.customer()["id"], api.customer()["id"]
    ia = api.invoice(a)
    api.invoice(b)
    found = api.get("/invoices", params={"customerId": a}).json()
    assert [i["id"] for i in found["data"]] == [ia["id"]]


def test_money_is_exact_json_numbers_with_two_places(api: Api) -> None:
    cust = api.customer()["id"]
    resp = api.post(
        "/invoices", {"customerId": cust, "items": [{"name": "x", "quantity": 3, "unitPrice": 0.1}]}
    )
    text = resp.text
    assert '"subtotal":0.30' in text  # a number, two places, no float noise
    assert '"total":0.30' in text
    inv = money_json(resp)["data"]
    assert inv["total"] == Decimal("0.30")
    # Numeric strings are accepted too (pydantic sends Decimals as strings).
    inv2 = api.ok("POST", "/invoices", {"customerId": cust, "items": [{"name": "x", "unitPrice": "19.99"}]})
    assert inv2["total"] == 19.99


def test_customer_with_documents_cannot_be_deleted(api: Api) -> None:
    cust = api.customer()["id"]
    api.invoice(cust)
    resp = api.delete(f"/customers/{cust}")
    assert resp.status_code == 400
    assert "archive" in resp.json()["message"]


def test_accounts_are_isolated(api: Api, sandbox: SandboxHandle) -> None:
    api.customer(name="tenant one")
    api.admin("POST", "accounts", {"apiKey": "second-tenant-key"})
    other = requests.get(f"{sandbox.url}/customers", auth=("second-tenant-key", ""), timeout=5)
    assert other.status_code == 200
    assert other.json()["data"] == []
    assert api.get("/customers").json()["total"] == 1


def test_null_is_accepted_for_every_optional_field(api: Api, sandbox: SandboxHandle) -> None:
    cust = api.ok(
        "POST",
        "/customers",
        {
            "name": "Nulls Ltd",
            **dict.fromkeys(("customerNo", "email", "phone", "address", "currency", "paymentTerms")),
            **dict.fromkeys(("status", "metadata")),
        },
    )
    # null = not set: the number is generated, defaults apply.
    assert cust["customerNo"].startswith("CUST-")
    assert (cust["currency"], cust["status"], cust["metadata"]) == ("USD", "active", {})

    doc_nulls = dict.fromkeys(("currency", "issueDate", "status", "discounts", "taxes", "metadata"))
    item = {
        "name": "x",
        "unitPrice": "10.00",
        **dict.fromkeys(("description", "quantity", "amount", "metadata")),
    }
    inv = api.ok(
        "POST",
        "/invoices",
        {
            "customerId": cust["id"],
            "items": [item],
            **doc_nulls,
            **dict.fromkeys(("invoiceNo", "dueDate", "paymentTerms", "purchaseOrder")),
            **dict.fromkeys(("subtotal", "taxTotal", "discountTotal", "total", "amountPaid", "balance")),
        },
    )
    assert inv["invoiceNo"].startswith("INV-")
    assert (inv["status"], inv["currency"], inv["total"], inv["items"][0]["quantity"]) == (
        "issued",
        "USD",
        10,
        1,
    )
    cn = api.ok(
        "POST",
        "/credit-notes",
        {"customerId": cust["id"], "items": [item], **doc_nulls, "creditNoteNo": None, "invoiceId": None},
    )
    assert (cn["creditNoteNo"].startswith("CN-"), cn["status"], cn["invoiceId"]) == (True, "open", None)
    pay = api.ok(
        "POST",
        "/payments",
        {
            "customerId": cust["id"],
            "amount": "5.00",
            **dict.fromkeys(("date", "currency", "method", "reference", "appliedTo", "metadata", "status")),
        },
    )
    assert (pay["method"], pay["currency"], pay["appliedTo"], pay["unappliedAmount"]) == (
        "other",
        "USD",
        [],
        5,
    )
    hook = api.ok("POST", "/webhooks", {"url": "http://127.0.0.1:9/hook", "events": None, "secret": None})
    assert (hook["events"], hook["secret"].startswith("whsec_")) == (["*"], True)

    # On PATCH, null clears an optional field (numbers included); a field with a default
    # (currency, status, issueDate, method, date) keeps its value.
    patched = api.ok(
        "PATCH", f"/customers/{cust['id']}", {"customerNo": None, "currency": None, "status": None}
    )
    assert (patched["customerNo"], patched["currency"], patched["status"]) == (None, "USD", "active")
    inv2 = api.ok(
        "PATCH",
        f"/invoices/{inv['id']}",
        {"invoiceNo": None, "currency": None, "issueDate": None, "status": None, "purchaseOrder": None},
    )
    assert (inv2["invoiceNo"], inv2["currency"], inv2["issueDate"]) == (None, "USD", inv["issueDate"])
    cn2 = api.ok("PATCH", f"/credit-notes/{cn['id']}", {"metadata": None, "status": None, "currency": None})
    assert cn2 == cn  # nothing changed
    locked = api.patch(f"/credit-notes/{cn['id']}", {"creditNoteNo": None})  # open: only metadata
    assert (locked.status_code, locked.json()["param"]) == (400, "creditNoteNo")
    draft = api.ok("POST", "/credit-notes", {"customerId": cust["id"], "items": [item], "status": "draft"})
    assert api.ok("PATCH", f"/credit-notes/{draft['id']}", {"creditNoteNo": None})["creditNoteNo"] is None
    pay2 = api.ok("PATCH", f"/payments/{pay['id']}", {"currency": None, "method": None, "reference": None})
    assert (pay2["currency"], pay2["method"]) == ("USD", "other")
    fee = {"type": "convenience_fee", "amount": "1.00", "invoiceId": None, "creditNoteId": None}
    card = api.ok(
        "POST", "/payments", {"customerId": cust["id"], "amount": "1.00", "method": "ach", "appliedTo": [fee]}
    )
    assert card["appliedTo"] == [{"type": "convenience_fee", "amount": 1}]
    # A cleared number can be reused by another object, and the generator skips nothing.
    assert api.customer(customerNo=cust["customerNo"])["customerNo"] == cust["customerNo"]
    # Required fields cannot be cleared.
    for path, body, param in (
        (f"/customers/{cust['id']}", {"name": None}, "name"),
        (f"/invoices/{inv['id']}", {"customerId": None}, "customerId"),
        (f"/invoices/{inv['id']}", {"items": None}, "items"),
        ("/invoices", {"customerId": None, "items": [item]}, "customerId"),
        ("/payments", {"customerId": cust["id"], "amount": None}, "amount"),
    ):
        resp = api.call("PATCH" if path.count("/") == 2 else "POST", path, body)
        assert (resp.status_code, resp.json()["param"]) == (400, param), (path, body)


def test_money_within_float_noise_of_two_places_is_accepted(api: Api, sandbox: SandboxHandle) -> None:
    cust = api.customer()["id"]
    noisy = 0.1 + 0.2  # 0.30000000000000004 on the wire
    inv = api.post(
        "/invoices",
        {
            "customerId": cust,
            "items": [{"name": "x", "quantity": 3, "unitPrice": noisy, "amount": 0.9000000000000001}],
            "taxes": [{"name": "t", "amount": noisy}],
            "subtotal": 0.9000000000000001,
        },
    )
    assert inv.status_code == 201, inv.text
    assert '"unitPrice":0.30' in inv.text
    assert '"taxTotal":0.30' in inv.text
    assert money_json(inv)["data"]["total"] == Decimal("1.20")
    pay = api.ok("POST", "/payments", {"customerId": cust, "amount": noisy})
    assert pay["amount"] == 0.3
    # Genuinely more precise money is still refused, as numbers and as strings.
    for value in (1.005, "1.005", "0.300001"):
        resp = api.post("/payments", {"customerId": cust, "amount": value})
        assert (resp.status_code, resp.json()["param"]) == (400, "amount"), value
    assert api.get("/payments").json()["total"] == 1


def test_updated_after_accepts_a_lowercase_z(api: Api) -> None:
    first = api.customer(name="first")
    second = api.customer(name="second")
    lower = first["updatedAt"].replace("T", "t").replace("Z", "z")
    found = api.get("/customers", params={"updatedAfter": lower}).json()
    assert [c["id"] for c in found["data"]] == [second["id"]]
