from django.db import migrations


def forwards(apps, schema_editor):
    from notifications.defaults import install_defaults

    install_defaults(apps)


def backwards(apps, schema_editor):
    from notifications.defaults import remove_defaults

    remove_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
