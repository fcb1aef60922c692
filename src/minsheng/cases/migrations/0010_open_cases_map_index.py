"""The command centre's map (issue #16): open cases in grid cells read off one partial index
(point, state, urgent, owner and town), so the map costs an index scan of the open cases, not
a visit to each case's row."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_case_number_sequences"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("state", "closed"), _negated=True),
                fields=["lat", "lng", "state", "urgent", "owner_unit", "town", "id"],
                name="case_open_map",
            ),
        ),
    ]
