"""The applicant's answers for TikTok's Direct Post audit (one row)."""

from peewee import *  # noqa: F403


def up(migrator, db):
    class AuditKit(Model):
        updated_at = DateTimeField()
        full_name = CharField(max_length=120, default="")
        org_name = CharField(max_length=160, default="")
        org_website = CharField(max_length=500, default="")
        app_id = CharField(max_length=64, default="")
        org_description = TextField(default="")
        customers = IntegerField(default=0)
        accounts_per_customer = IntegerField(default=0)
        videos_per_account_per_day = IntegerField(default=0)
        instance_public = BooleanField(default=False)
        demo_url = CharField(max_length=500, default="")
        demo_email = CharField(max_length=254, default="")
        demo_password_enc = TextField(null=True)
        answers_edited = TextField(default="")

        class Meta:
            database = db
            table_name = "audit_kit"

    db.create_tables([AuditKit])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("audit_kit"))
