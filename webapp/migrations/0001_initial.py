"""Initial schema: users, settings, TikTok service, accounts, media, posts, targets, events.

A frozen copy of the models as they were when this migration was written; later model
changes go in new numbered migrations, never here.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    class User(Model):
        created_at = DateTimeField()
        updated_at = DateTimeField()
        email = CharField(unique=True, max_length=254)
        name = CharField(max_length=120, default="")
        password_hash = CharField()
        role = CharField(max_length=16, default="member")
        active = BooleanField(default=True)
        timezone = CharField(null=True, max_length=64)
        last_login_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "user"

    db.create_tables([User])

    class Account(Model):
        created_at = DateTimeField()
        updated_at = DateTimeField()
        owner = ForeignKeyField(User, on_delete="RESTRICT")
        provider = CharField(max_length=16, default="tiktok")
        open_id = CharField(max_length=128)
        union_id = CharField(max_length=128, default="")
        username = CharField(max_length=128, default="")
        display_name = CharField(default="")
        avatar_url = TextField(default="")
        scopes = CharField(max_length=500, default="")
        status = CharField(max_length=24, default="connected")
        status_reason = TextField(default="")
        access_token_enc = TextField(null=True)
        access_token_expires_at = DateTimeField(null=True)
        refresh_token_enc = TextField(null=True)
        refresh_token_expires_at = DateTimeField(null=True)
        last_checked_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "account"
            indexes = ((("provider", "open_id"), True),)

    db.create_tables([Account])

    class AppSettings(Model):
        updated_at = DateTimeField()
        app_name = CharField(max_length=80, default="Cadence")
        website_url = CharField(max_length=500, default="")
        privacy_url = CharField(max_length=500, default="")
        terms_url = CharField(max_length=500, default="")
        support_email = CharField(max_length=254, default="")
        timezone = CharField(max_length=64, default="UTC")

        class Meta:
            database = db
            table_name = "app_settings"

    db.create_tables([AppSettings])

    class Media(Model):
        created_at = DateTimeField()
        updated_at = DateTimeField()
        owner = ForeignKeyField(User, on_delete="RESTRICT")
        kind = CharField(max_length=8)
        original_name = CharField()
        stored_name = CharField(unique=True)
        content_type = CharField(max_length=64, default="")
        size_bytes = BigIntegerField(default=0)
        sha256 = CharField(max_length=64, default="")
        status = CharField(max_length=16, default="ready")
        container = CharField(max_length=64, default="")
        video_codec = CharField(max_length=32, default="")
        audio_codec = CharField(max_length=32, default="")
        duration_ms = IntegerField(null=True)
        width = IntegerField(null=True)
        height = IntegerField(null=True)
        fps = FloatField(null=True)
        probe = TextField(null=True)
        problems = TextField(default=list)

        class Meta:
            database = db
            table_name = "media"

    db.create_tables([Media])

    class Post(Model):
        created_at = DateTimeField()
        updated_at = DateTimeField()
        author = ForeignKeyField(User, on_delete="RESTRICT")
        post_type = CharField(max_length=8, default="video")
        caption = TextField(default="")
        description = TextField(default="")
        cover_timestamp_ms = IntegerField(null=True)
        photo_cover_index = IntegerField(default=0)
        status = CharField(max_length=24, default="draft")
        scheduled_at = DateTimeField(null=True)
        consent_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "post"
            indexes = ((("status", "scheduled_at"), False),)

    db.create_tables([Post])

    class PostTarget(Model):
        created_at = DateTimeField()
        updated_at = DateTimeField()
        post = ForeignKeyField(Post, on_delete="CASCADE")
        account = ForeignKeyField(Account, on_delete="RESTRICT")
        status = CharField(max_length=24, default="draft")
        privacy_level = CharField(null=True, max_length=32)
        allow_comment = BooleanField(default=False)
        allow_duet = BooleanField(default=False)
        allow_stitch = BooleanField(default=False)
        disclose = BooleanField(default=False)
        brand_organic = BooleanField(default=False)
        brand_content = BooleanField(default=False)
        is_aigc = BooleanField(default=False)
        auto_add_music = BooleanField(default=False)
        publish_id = CharField(index=True, null=True, max_length=64)
        publicaly_available_post_id = CharField(null=True, max_length=32)
        public_url = TextField(default="")
        fail_reason = CharField(max_length=64, default="")
        error_code = CharField(max_length=64, default="")
        error_message = TextField(default="")
        attempts = IntegerField(default=0)
        uploaded_bytes = BigIntegerField(default=0)
        total_bytes = BigIntegerField(default=0)
        published_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "post_target"
            indexes = ((("post", "account"), True),)

    db.create_tables([PostTarget])

    class PostEvent(Model):
        post = ForeignKeyField(Post, on_delete="CASCADE")
        target = ForeignKeyField(PostTarget, null=True, on_delete="CASCADE")
        kind = CharField(max_length=48)
        message = TextField(default="")
        data = TextField(null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "post_event"
            indexes = ((("post", "created_at"), False),)

    db.create_tables([PostEvent])

    class PostMedia(Model):
        post = ForeignKeyField(Post, on_delete="CASCADE")
        media = ForeignKeyField(Media, on_delete="RESTRICT")
        position = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "post_media"
            indexes = ((("post", "position"), True),)

    db.create_tables([PostMedia])

    class TikTokService(Model):
        updated_at = DateTimeField()
        client_key = CharField(max_length=128, default="")
        client_secret_enc = TextField(null=True)
        share_type = CharField(max_length=16, default="direct_post")
        upload_method = CharField(max_length=16, default="FILE_UPLOAD")
        media_url_prefix = CharField(max_length=500, default="")
        auth_base_url = CharField(max_length=500, default="")
        api_base_url = CharField(max_length=500, default="")
        audited = BooleanField(default=False)

        class Meta:
            database = db
            table_name = "tiktok_service"

    db.create_tables([TikTokService])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("tiktok_service"))
    migrator.migrate(migrator.drop_table("post_media"))
    migrator.migrate(migrator.drop_table("post_event"))
    migrator.migrate(migrator.drop_table("post_target"))
    migrator.migrate(migrator.drop_table("post"))
    migrator.migrate(migrator.drop_table("media"))
    migrator.migrate(migrator.drop_table("app_settings"))
    migrator.migrate(migrator.drop_table("account"))
    migrator.migrate(migrator.drop_table("user"))
