"""Stages, tags, salespeople and teams referenced by leads, upserted in bulk."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connections.models import OdooConnection
from connections.odoo.dialects import OdooDataClient

from .mapping import MappedLead, Reference, parse_text
from .models import OdooRecord, Salesperson, Stage, Tag, Team


class RelatedRecords:
    """Local copies of the records leads point to, cached for one sync run.

    The first page of a run may upsert each kind once; later pages touch the
    database only for records not seen before or renamed in Odoo.
    """

    def __init__(self, connection: OdooConnection, client: OdooDataClient, context: dict[str, Any]) -> None:
        self.connection = connection
        self.client = client
        self.context = context
        self.stages = self._load(Stage)
        self.tags = self._load(Tag)
        self.salespeople = self._load(Salesperson)
        self.teams = self._load(Team)

    def _load(self, model: type[OdooRecord]) -> dict[int, OdooRecord]:
        return {record.odoo_id: record for record in model.objects.filter(connection=self.connection)}

    @property
    def won_stage_ids(self) -> set[int]:
        return {odoo_id for odoo_id, stage in self.stages.items() if stage.is_won}

    def fetch_unknown(self, rows: Iterable[dict[str, Any]]) -> None:
        """Read from Odoo the stages and tags of ``rows`` not stored yet.

        A lead row carries only a stage's [id, name] and bare tag ids, but
        the lead status needs the stage's ``is_won`` and the admin the tag
        names. Must run before the rows are mapped.
        """
        rows = list(rows)
        stage_ids = {row["stage_id"][0] for row in rows if isinstance(row.get("stage_id"), list) and row["stage_id"]}
        tag_ids = {tag for row in rows for tag in (row.get("tag_ids") or []) if isinstance(tag, int)}
        unknown_stages = sorted(stage_ids - set(self.stages))
        unknown_tags = sorted(tag_ids - set(self.tags))
        if unknown_stages:
            records = self.client.search_read(
                "crm.stage",
                domain=[("id", "in", unknown_stages)],
                fields=["name", "sequence", "is_won"],
                order="id asc",
                limit=len(unknown_stages),
                context=self.context,
            )
            self._upsert(
                Stage,
                self.stages,
                {
                    record["id"]: {
                        "name": parse_text(record.get("name"), 255),
                        "sequence": int(record.get("sequence") or 0),
                        "is_won": bool(record.get("is_won")),
                    }
                    for record in records
                },
            )
        if unknown_tags:
            records = self.client.search_read(
                "crm.tag",
                domain=[("id", "in", unknown_tags)],
                fields=["name"],
                order="id asc",
                limit=len(unknown_tags),
                context=self.context,
            )
            self._upsert(Tag, self.tags, {record["id"]: {"name": parse_text(record.get("name"), 255)} for record in records})

    def sync_references(self, leads: list[MappedLead]) -> None:
        """Upsert stages, salespeople and teams that are new or renamed."""
        self._upsert_references(Stage, self.stages, [lead.stage for lead in leads])
        self._upsert_references(Salesperson, self.salespeople, [lead.salesperson for lead in leads])
        self._upsert_references(Team, self.teams, [lead.team for lead in leads])

    def pk_of(self, cache: dict[int, OdooRecord], reference: Reference | None) -> int | None:
        if reference is None:
            return None
        record = cache.get(reference.odoo_id)
        return record.pk if record else None

    def tag_pks(self, tag_ids: list[int]) -> list[int]:
        return [self.tags[tag].pk for tag in tag_ids if tag in self.tags]

    def _upsert_references(
        self, model: type[OdooRecord], cache: dict[int, OdooRecord], references: list[Reference | None]
    ) -> None:
        changed: dict[int, dict[str, Any]] = {}
        for reference in references:
            if reference is None:
                continue
            known = cache.get(reference.odoo_id)
            name = reference.name[:255]
            if known is None or (name and known.name != name):
                changed[reference.odoo_id] = {"name": name}
        self._upsert(model, cache, changed)

    def _upsert(self, model: type[OdooRecord], cache: dict[int, OdooRecord], values: dict[int, dict[str, Any]]) -> None:
        if not values:
            return
        update_fields = sorted({name for fields in values.values() for name in fields})
        objects = [model(connection=self.connection, odoo_id=odoo_id, **fields) for odoo_id, fields in values.items()]
        saved = model.objects.bulk_create(
            objects, update_conflicts=True, unique_fields=["connection", "odoo_id"], update_fields=update_fields
        )
        for record in saved:
            known = cache.get(record.odoo_id)
            if known is None:
                cache[record.odoo_id] = record
                continue
            # Keep the cached object: it contains fields this upsert left alone.
            for name in values[record.odoo_id]:
                setattr(known, name, getattr(record, name))
