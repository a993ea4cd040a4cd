"""One email, one login: a case-insensitive unique index on the login user's email.

The user model belongs to django.contrib.auth, so the index is added here, by the app
whose rule it is, with the schema editor (a constraint on the model would need a
migration in auth). Blank emails (staff made with a username only) are left out.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Lower

USER_EMAIL_UNIQUE = models.UniqueConstraint(Lower("email"), condition=~models.Q(email=""), name="user_email_unique_ci")


def add_index(apps, schema_editor):
    User = apps.get_model(settings.AUTH_USER_MODEL)
    shared = (
        User._default_manager.using(schema_editor.connection.alias)
        .exclude(email="")
        .values(folded=Lower("email"))
        .annotate(logins=models.Count("pk"))
        .filter(logins__gt=1)
        .values_list("folded", flat=True)
    )
    if shared:
        raise RuntimeError(
            "These emails belong to more than one login; give each login its own email, then migrate again: "
            + ", ".join(sorted(shared))
        )
    schema_editor.add_constraint(User, USER_EMAIL_UNIQUE)


def remove_index(apps, schema_editor):
    schema_editor.remove_constraint(apps.get_model(settings.AUTH_USER_MODEL), USER_EMAIL_UNIQUE)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_format_checks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(add_index, remove_index, elidable=False)]
