# Joint groups (一键组群): each assisting unit has its own sign and handle clocks.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_routing_record"),
    ]

    operations = [
        migrations.AlterField(
            model_name="caseclock",
            name="name",
            field=models.CharField(
                choices=[
                    ("sign", "Sign"),
                    ("dispatch", "Dispatch"),
                    ("feedback", "Feedback"),
                    ("resolve", "Resolve"),
                    ("response", "Sensor response"),
                    ("member_sign", "Group part sign"),
                    ("member_handle", "Group part done"),
                ],
                max_length=16,
            ),
        ),
        migrations.RemoveConstraint(
            model_name="caseclock",
            name="clock_name_valid",
        ),
        migrations.AddConstraint(
            model_name="caseclock",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "name__in",
                        [
                            "sign",
                            "dispatch",
                            "feedback",
                            "resolve",
                            "response",
                            "member_sign",
                            "member_handle",
                        ],
                    )
                ),
                name="clock_name_valid",
            ),
        ),
    ]
