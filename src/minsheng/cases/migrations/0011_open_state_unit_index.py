"""The leader's overview (issue #15): the open cases by state and holding unit counted off one
partial index, so the count reads the open cases' index entries, not the city's history."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_open_cases_map_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("state", "closed"), _negated=True),
                fields=["state", "owner_unit"],
                name="case_open_state_unit",
            ),
        ),
    ]
