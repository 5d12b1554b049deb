"""Workspaces: accounts, media, posts and notifications belong to a workspace its members share.

Everything that existed moves into a first workspace, "Main workspace" (slug "main"), whose
members are all existing people as managers: before workspaces, every member could connect
accounts, so nobody loses an ability. Posts gain the approval columns. The Posts list, the
Calendar and the Dashboard now read a workspace's posts, so the author-first indexes of 0007
make way for workspace-first ones.
"""

import datetime as dt

from peewee import *  # noqa: F403

OLD_AUTHOR_INDEXES = [
    ("author_id", "created_at", "id"),
    ("author_id", "status", "created_at", "id"),
    ("author_id", "scheduled_at", "status"),
    ("author_id", "status", "scheduled_at"),
    ("author_id", "status", "updated_at"),
]
POST_INDEXES = [
    ("workspace_id", "created_at", "id"),
    ("workspace_id", "status", "created_at", "id"),
    ("workspace_id", "scheduled_at", "status"),
    ("workspace_id", "status", "scheduled_at"),
    ("workspace_id", "status", "updated_at"),
]
FIRST_NAME, FIRST_SLUG = "Main workspace", "main"


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Workspace(Model):
        created_at = DateTimeField()
        updated_at = DateTimeField()
        name = CharField(max_length=80)
        slug = CharField(max_length=48, unique=True)
        approval_required = BooleanField(default=False)

        class Meta:
            database = db
            table_name = "workspace"

    class Membership(Model):
        workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
        user = ForeignKeyField(User, on_delete="CASCADE")
        role = CharField(max_length=16)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "membership"
            indexes = ((("workspace", "user"), True), (("user", "workspace"), False))

    class Invitation(Model):
        workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
        email = CharField(max_length=254)
        role = CharField(max_length=16)
        token_digest = CharField(max_length=64, unique=True)
        invited_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField()
        expires_at = DateTimeField()
        used_at = DateTimeField(null=True)
        used_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
        revoked_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "invitation"
            indexes = ((("workspace", "email"), False),)

    db.create_tables([Workspace, Membership, Invitation])

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    owned = ("account", "media", "post", "notification")
    has_data = db.execute_sql('SELECT EXISTS (SELECT 1 FROM "user")').fetchone()[0] or any(
        db.execute_sql(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0]  # noqa: S608
        for t in owned
    )
    first = None
    if has_data:
        first = Workspace.create(
            name=FIRST_NAME, slug=FIRST_SLUG, created_at=now, updated_at=now
        ).id
        for (user_id,) in db.execute_sql('SELECT id FROM "user" ORDER BY id').fetchall():
            Membership.create(workspace=first, user=user_id, role="manager", created_at=now)

    for table in owned:
        column = ForeignKeyField(
            Workspace,
            field=Workspace.id,
            null=True,
            on_delete="CASCADE" if table == "notification" else "RESTRICT",
        )
        migrator.migrate(migrator.add_column(table, "workspace_id", column))
        if first is not None:
            db.execute_sql(f'UPDATE "{table}" SET workspace_id = %s' % int(first))  # noqa: S608
    for table in ("account", "media", "post"):
        migrator.migrate(migrator.add_not_null(table, "workspace_id"))

    post_user = ForeignKeyField(User, field=User.id, null=True, on_delete="SET NULL")
    migrator.migrate(
        migrator.add_column("post", "submitted_by_id", post_user),
        migrator.add_column("post", "submitted_at", DateTimeField(null=True)),
        migrator.add_column(
            "post",
            "approved_by_id",
            ForeignKeyField(User, field=User.id, null=True, on_delete="SET NULL"),
        ),
        migrator.add_column("post", "approved_at", DateTimeField(null=True)),
        migrator.add_column("post", "review_note", TextField(default="")),
    )
    migrator.migrate(
        *(migrator.drop_index("post", "post_" + "_".join(c)) for c in OLD_AUTHOR_INDEXES)
    )
    migrator.migrate(*(migrator.add_index("post", c, False) for c in POST_INDEXES))
    migrator.migrate(migrator.add_index("media", ("workspace_id", "status", "created_at"), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("media", "media_workspace_id_status_created_at"))
    migrator.migrate(*(migrator.drop_index("post", "post_" + "_".join(c)) for c in POST_INDEXES))
    migrator.migrate(*(migrator.add_index("post", c, False) for c in OLD_AUTHOR_INDEXES))
    migrator.migrate(
        *(
            migrator.drop_column("post", column)
            for column in (
                "submitted_by_id",
                "submitted_at",
                "approved_by_id",
                "approved_at",
                "review_note",
            )
        )
    )
    for table in ("account", "media", "post", "notification"):
        migrator.migrate(migrator.drop_column(table, "workspace_id"))
    db.execute_sql('DROP TABLE "invitation"')
    db.execute_sql('DROP TABLE "membership"')
    db.execute_sql('DROP TABLE "workspace"')
