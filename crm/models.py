"""Leads read from Odoo, the records they point to, and the sync state and history."""

from __future__ import annotations

from django.db import models

from connections.models import OdooConnection


class OdooRecord(models.Model):
    """A record of one connection's Odoo, identified by its Odoo id."""

    connection = models.ForeignKey(
        OdooConnection, on_delete=models.CASCADE, related_name="+", help_text="Odoo connection the record comes from."
    )
    odoo_id = models.IntegerField(help_text="Id of the record in Odoo.")
    name = models.CharField(max_length=255, blank=True, help_text="Display name in Odoo.")

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or f"#{self.odoo_id}"


class Stage(OdooRecord):
    sequence = models.IntegerField(default=0, help_text="Position of the stage in Odoo's pipeline, lowest first.")
    is_won = models.BooleanField(default=False, help_text="Leads in this stage count as won.")

    class Meta(OdooRecord.Meta):
        ordering = ["sequence", "name"]
        constraints = [models.UniqueConstraint(fields=["connection", "odoo_id"], name="crm_stage_unique_odoo_id")]


class Tag(OdooRecord):
    class Meta(OdooRecord.Meta):
        constraints = [models.UniqueConstraint(fields=["connection", "odoo_id"], name="crm_tag_unique_odoo_id")]


class Salesperson(OdooRecord):
    """An Odoo user (``res.users``) that leads are assigned to."""

    class Meta(OdooRecord.Meta):
        verbose_name_plural = "salespeople"
        constraints = [
            models.UniqueConstraint(fields=["connection", "odoo_id"], name="crm_salesperson_unique_odoo_id")
        ]


class Team(OdooRecord):
    """An Odoo sales team (``crm.team``)."""

    class Meta(OdooRecord.Meta):
        constraints = [models.UniqueConstraint(fields=["connection", "odoo_id"], name="crm_team_unique_odoo_id")]


class Lead(models.Model):
    """One ``crm.lead`` of one connection, as last read from Odoo."""

    class Type(models.TextChoices):
        LEAD = "lead", "Lead"
        OPPORTUNITY = "opportunity", "Opportunity"

    class Priority(models.IntegerChoices):
        LOW = 0, "Low"
        MEDIUM = 1, "Medium"
        HIGH = 2, "High"
        VERY_HIGH = 3, "Very high"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        ARCHIVED = "archived", "Archived"

    connection = models.ForeignKey(
        OdooConnection, on_delete=models.CASCADE, related_name="leads", help_text="Odoo connection the lead comes from."
    )
    odoo_id = models.IntegerField("Odoo id", help_text="Id of the lead in Odoo.")
    name = models.CharField(max_length=255, help_text="Title of the lead or opportunity.")
    type = models.CharField(
        max_length=16, choices=Type.choices, default=Type.LEAD, help_text="Lead, or opportunity once qualified."
    )
    stage = models.ForeignKey(
        Stage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        help_text="Pipeline stage in Odoo.",
    )
    probability = models.FloatField(null=True, blank=True, help_text="Probability of winning, 0 to 100 %.")
    expected_revenue = models.DecimalField(
        max_digits=18, decimal_places=2, null=True, blank=True, help_text="In the company currency of the lead."
    )
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, default=Priority.LOW, help_text="Stars given in Odoo, from Low (none) to Very high (3)."
    )
    salesperson = models.ForeignKey(
        Salesperson,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        help_text="Odoo user the lead is assigned to.",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads", help_text="Odoo sales team."
    )
    company_name = models.CharField(max_length=255, blank=True, help_text="Company name typed on the lead.")
    contact_name = models.CharField(max_length=255, blank=True, help_text="Name of the contact person typed on the lead.")
    partner_name = models.CharField(
        "customer", max_length=255, blank=True, help_text="Display name of the linked Odoo contact."
    )
    email = models.CharField(max_length=255, blank=True, help_text="Email address of the lead (email_from in Odoo).")
    phone = models.CharField(max_length=64, blank=True, help_text="Phone number of the lead.")
    city = models.CharField(max_length=128, blank=True, help_text="City of the lead's address.")
    country = models.CharField(max_length=128, blank=True, help_text="Country name of the lead's address.")
    tags = models.ManyToManyField(Tag, blank=True, related_name="leads", help_text="Tags set on the lead in Odoo.")
    date_deadline = models.DateField(
        "expected closing", null=True, blank=True, help_text="Date the salesperson expects to close the deal."
    )
    date_closed = models.DateTimeField(
        "closed", null=True, blank=True, help_text="When Odoo marked the lead won or lost."
    )
    lost_reason = models.CharField(max_length=255, blank=True, help_text="Lost reason chosen in Odoo.")
    odoo_company = models.CharField("company", max_length=255, blank=True, help_text="Odoo company of the lead.")
    active = models.BooleanField(default=True, help_text="False when the lead is archived or lost in Odoo.")
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.OPEN,
        db_index=True,
        help_text="Derived from Odoo: won in a won stage at 100 %, lost when archived at 0 %, otherwise open or archived.",
    )
    create_date = models.DateTimeField("created in Odoo", null=True, blank=True, help_text="Odoo's create_date.")
    write_date = models.DateTimeField(
        "changed in Odoo", null=True, blank=True, help_text="Odoo's write_date: when the lead last changed there."
    )
    raw = models.JSONField(default=dict, help_text="The record exactly as Odoo returned it.")
    deleted_in_odoo_at = models.DateTimeField(
        "gone from Odoo",
        null=True,
        blank=True,
        help_text="When reconciliation found the lead deleted in Odoo or no longer visible to the linked user.",
    )
    synced_at = models.DateTimeField(auto_now=True, help_text="When this row was last written by a sync.")

    class Meta:
        ordering = ["-write_date", "-odoo_id"]
        constraints = [models.UniqueConstraint(fields=["connection", "odoo_id"], name="crm_lead_unique_odoo_id")]
        indexes = [
            models.Index(fields=["connection", "-write_date"], name="crm_lead_conn_write_idx"),
            # The admin changelist's order: Meta.ordering plus the primary key
            # that the admin appends. A page then reads only its own rows.
            models.Index(fields=["-write_date", "-odoo_id", "-id"], name="crm_lead_list_order_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class SyncCursor(models.Model):
    """Start position of the next incremental read of a connection.

    ``write_date`` is Odoo's whole-second value of the last record saved and
    ``last_id`` the highest id saved within that second, or 0 when that
    second must be read again from its first id.
    """

    connection = models.OneToOneField(OdooConnection, on_delete=models.CASCADE, related_name="sync_cursor")
    write_date = models.DateTimeField(null=True, blank=True)
    last_id = models.IntegerField(default=0)
    # Companies of the linked Odoo user, sent as allowed_company_ids so that
    # leads of every company the user may see are read.
    company_ids = models.JSONField(default=list, blank=True)
    # crm.lead fields requested from this Odoo, chosen with fields_get
    # because field sets differ by version (mobile gone in 19, and so on).
    lead_fields = models.JSONField(default=list, blank=True)
    # Per-connection run lock: the owner token of the running sync and when
    # the lock lapses if that run stops renewing it (after a SIGKILL).
    lock_owner = models.CharField(max_length=64, blank=True)
    lock_expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.write_date} / {self.last_id}"


class SyncRun(models.Model):
    """One run of the sync task for one connection."""

    class Kind(models.TextChoices):
        SYNC = "sync", "Sync"
        RECONCILE = "reconcile", "Deletion check"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partial"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    connection = models.ForeignKey(
        OdooConnection, on_delete=models.CASCADE, related_name="sync_runs", help_text="Connection that was synced."
    )
    kind = models.CharField(
        max_length=16,
        choices=Kind.choices,
        default=Kind.SYNC,
        help_text="Sync reads changed leads; a deletion check lists every id to find leads gone from Odoo.",
    )
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.RUNNING,
        help_text=(
            "Partial: failed after saving some pages; the next run continues from the saved cursor. "
            "Skipped: another run of the connection held the lock."
        ),
    )
    full = models.BooleanField(default=False, help_text="Whether the run re-read every lead.")
    started_at = models.DateTimeField(auto_now_add=True, help_text="When the run started.")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When the run ended; empty while it runs.")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life; a running run silent for too long is marked failed."
    )
    slices = models.PositiveIntegerField(default=0, help_text="Number of task executions the run took.")
    pages = models.PositiveIntegerField(default=0, help_text="Pages of leads read from Odoo.")
    fetched = models.PositiveIntegerField(default=0, help_text="Lead records received from Odoo.")
    created = models.PositiveIntegerField(default=0, help_text="Leads stored here for the first time.")
    updated = models.PositiveIntegerField(default=0, help_text="Leads that already existed here and were overwritten.")
    archived = models.PositiveIntegerField(default=0, help_text="Leads that became archived or lost in Odoo.")
    restored = models.PositiveIntegerField(default=0, help_text="Leads seen again in Odoo after being marked gone.")
    deleted = models.PositiveIntegerField(default=0, help_text="Leads found deleted in Odoo or no longer visible.")
    # Position of this run's own reading, from which a continuation task resumes.
    position_write_date = models.DateTimeField(
        null=True, blank=True, help_text="write_date of the last lead this run saved."
    )
    position_last_id = models.IntegerField(default=0, help_text="Highest lead id saved within that write_date.")
    cursor_before = models.CharField(max_length=64, blank=True, help_text="Connection's cursor when the run started.")
    cursor_after = models.CharField(max_length=64, blank=True, help_text="Connection's cursor when the run ended.")
    error_kind = models.CharField(max_length=64, blank=True, help_text="Class of the error that ended the run.")
    error_message = models.TextField(blank=True, help_text="Error message shown to staff.")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["connection", "-started_at"], name="crm_syncrun_conn_started_idx"),
            # The admin's sync run list order; a run is recorded every few minutes per connection.
            models.Index(fields=["-started_at", "-id"], name="crm_syncrun_list_order_idx"),
        ]

    def __str__(self) -> str:
        return f"Sync of {self.connection} at {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def duration(self):  # noqa: ANN201
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at
