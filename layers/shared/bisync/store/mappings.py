"""ID mappings: two items per link (B#<blixo id> and I#<intacct key>), written together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from bisync.store import keys
from bisync.store.models import Mapping

# An announcement outlives any retry of its write (SQS keeps retrying for hours, not days).
EXPECTATION_LIFETIME = timedelta(days=2)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


_LINKS_PER_TRANSACTION = 50


class MappingConflictError(Exception):
    """The link already exists (on either side): it is never made twice."""


def _cancelled_by_condition(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    if error.get("Code") == "ConditionalCheckFailedException":
        return True
    reasons = exc.response.get("CancellationReasons") or []
    return error.get("Code") == "TransactionCanceledException" and any(
        r.get("Code") == "ConditionalCheckFailed" for r in reasons
    )


class MappingStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _items(self, mapping: Mapping) -> tuple[dict[str, Any], dict[str, Any]]:
        pk = keys.mapping_pk(mapping.tenant_id, mapping.object_type)
        body = mapping.model_dump_json()
        return (
            {"PK": pk, "SK": keys.blixo_side_sk(mapping.blixo_id), "mapping": body},
            {"PK": pk, "SK": keys.intacct_side_sk(mapping.intacct_key), "mapping": body},
        )

    def link(self, mapping: Mapping) -> Mapping:
        """Create the link; MappingConflictError if either side is already linked to something
        else. The same pair linked again is the link as stored (two writers of one batch that
        both had to push the same customer made one record and both link it)."""
        mapping = mapping.model_copy(update={"updated_at": datetime.now(UTC)})
        b_item, i_item = self._items(mapping)
        client = self._table.meta.client
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table.name,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    }
                    for item in (b_item, i_item)
                ]
            )
        except ClientError as exc:
            if _cancelled_by_condition(exc):
                existing = self.by_blixo(mapping.tenant_id, mapping.object_type, mapping.blixo_id)
                if existing is not None and existing.intacct_key == mapping.intacct_key:
                    return existing
                raise MappingConflictError(
                    f"{mapping.object_type} {mapping.blixo_id} / {mapping.intacct_key} is already linked"
                ) from None
            raise
        return mapping

    def link_many(self, mappings: list[Mapping]) -> list[Mapping | MappingConflictError]:
        """Link many at once: up to 50 links (100 items, DynamoDB's cap) per transaction; a
        chunk refused because one of its links exists is retried link by link, so only that one
        is reported as a conflict. Each result is the link, or the conflict, in order."""
        stamped = [m.model_copy(update={"updated_at": datetime.now(UTC)}) for m in mappings]
        results: list[Mapping | MappingConflictError] = []
        client = self._table.meta.client
        for start in range(0, len(stamped), _LINKS_PER_TRANSACTION):
            chunk = stamped[start : start + _LINKS_PER_TRANSACTION]
            items = [
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
                for mapping in chunk
                for item in self._items(mapping)
            ]
            try:
                client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
            except ClientError as exc:
                if not _cancelled_by_condition(exc):
                    raise
                for mapping in chunk:
                    try:
                        results.append(self.link(mapping))
                    except MappingConflictError as conflict:
                        results.append(conflict)
                continue
            results.extend(chunk)
        return results

    def save(self, mapping: Mapping, *, previous_intacct_key: str | None = None) -> Mapping:
        """Update an existing link (hash, version, state, extra keys). When the Intacct key
        moved (an Order Entry edit, a reverse-and-recreate) the old I# item goes and the new one
        must not belong to another link."""
        mapping = mapping.model_copy(update={"updated_at": datetime.now(UTC)})
        b_item, i_item = self._items(mapping)
        pk = b_item["PK"]
        table = self._table.name
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": table, "Item": b_item, "ConditionExpression": "attribute_exists(PK)"}}
        ]
        if previous_intacct_key and previous_intacct_key != mapping.intacct_key:
            items.append(
                {
                    "Delete": {
                        "TableName": table,
                        "Key": {"PK": pk, "SK": keys.intacct_side_sk(previous_intacct_key)},
                    }
                }
            )
            items.append(
                {
                    "Put": {
                        "TableName": table,
                        "Item": i_item,
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
        else:
            items.append({"Put": {"TableName": table, "Item": i_item}})
        try:
            self._table.meta.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if _cancelled_by_condition(exc):
                raise MappingConflictError(
                    f"{mapping.object_type} {mapping.blixo_id}: not linked, or {mapping.intacct_key} "
                    "belongs to another link"
                ) from None
            raise
        return mapping

    def unlink(self, mapping: Mapping) -> None:
        pk = keys.mapping_pk(mapping.tenant_id, mapping.object_type)
        table = self._table.name
        self._table.meta.client.transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": table,
                        "Key": {"PK": pk, "SK": keys.blixo_side_sk(mapping.blixo_id)},
                    }
                },
                {
                    "Delete": {
                        "TableName": table,
                        "Key": {"PK": pk, "SK": keys.intacct_side_sk(mapping.intacct_key)},
                    }
                },
            ]
        )

    def by_blixo(self, tenant_id: str, object_type: str, blixo_id: str) -> Mapping | None:
        return self._get(keys.mapping_pk(tenant_id, object_type), keys.blixo_side_sk(blixo_id))

    def by_intacct(self, tenant_id: str, object_type: str, intacct_key: str) -> Mapping | None:
        return self._get(keys.mapping_pk(tenant_id, object_type), keys.intacct_side_sk(intacct_key))

    def many_by_blixo(self, tenant_id: str, object_type: str, blixo_ids: Iterable[str]) -> dict[str, Mapping]:
        found = self._batch(
            keys.mapping_pk(tenant_id, object_type), [keys.blixo_side_sk(i) for i in blixo_ids]
        )
        return {m.blixo_id: m for m in found}

    def many_by_intacct(
        self, tenant_id: str, object_type: str, intacct_keys: Iterable[str]
    ) -> dict[str, Mapping]:
        found = self._batch(
            keys.mapping_pk(tenant_id, object_type), [keys.intacct_side_sk(k) for k in intacct_keys]
        )
        return {m.intacct_key: m for m in found}

    def all(self, tenant_id: str, object_type: str) -> list[Mapping]:
        """Every link of one kind, once each (read from its Blixo side), for audits."""
        out: list[Mapping] = []
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(keys.mapping_pk(tenant_id, object_type))
            & Key("SK").begins_with(keys.BLIXO_SIDE_PREFIX),
            "ConsistentRead": True,
        }
        while True:
            page = self._table.query(**query)
            out.extend(Mapping.model_validate_json(str(item["mapping"])) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return out
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _get(self, pk: str, sk: str) -> Mapping | None:
        item = self._table.get_item(Key={"PK": pk, "SK": sk}, ConsistentRead=True).get("Item")
        return Mapping.model_validate_json(str(item["mapping"])) if item else None

    # ---------------------------------------------------------------- expected records
    # A write whose Intacct key is not known yet (a cash payment posts under a reference that
    # is only the customer's and the check's): announced before it is sent, so a pull reading
    # it before its link is stored (a reply lost, a retry pending) knows it for the push's own.
    def expect(self, tenant_id: str, object_type: str, probe: str, blixo_id: str) -> None:
        self._table.put_item(
            Item={
                "PK": keys.mapping_pk(tenant_id, object_type),
                "SK": keys.expected_sk(probe),
                "blixoId": blixo_id,
                "expiresAt": int((datetime.now(UTC) + EXPECTATION_LIFETIME).timestamp()),
            }
        )

    def expected(self, tenant_id: str, object_type: str, probes: Iterable[str]) -> set[str]:
        """The probes announced by a write and not yet settled by its link."""
        wanted = {keys.expected_sk(p): p for p in probes}
        items = self._batch_items(keys.mapping_pk(tenant_id, object_type), list(wanted))
        return {wanted[str(item["SK"])] for item in items if str(item["SK"]) in wanted}

    def unexpect(self, tenant_id: str, object_type: str, probe: str) -> None:
        self._table.delete_item(
            Key={"PK": keys.mapping_pk(tenant_id, object_type), "SK": keys.expected_sk(probe)}
        )

    def _batch(self, pk: str, sks: Sequence[str]) -> list[Mapping]:
        return [Mapping.model_validate_json(str(item["mapping"])) for item in self._batch_items(pk, sks)]

    def _batch_items(self, pk: str, sks: Sequence[str]) -> list[dict[str, Any]]:
        unique = list(dict.fromkeys(sks))
        out: list[dict[str, Any]] = []
        # The resource's client: it takes and returns plain Python values.
        client = self._table.meta.client
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self._table.name: {
                    "Keys": [{"PK": pk, "SK": sk} for sk in unique[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                reply = client.batch_get_item(RequestItems=request)
                out.extend(reply.get("Responses", {}).get(self._table.name, []))
                request = reply.get("UnprocessedKeys") or {}
        return out
