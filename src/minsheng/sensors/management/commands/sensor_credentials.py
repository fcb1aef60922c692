"""``minsheng sensor-credentials``: how devices prove who they are.

minsheng sensor-credentials password DEVICE_ID      # new broker password (shown once)
minsheng sensor-credentials key --device DEVICE_ID  # HTTP API key for one device
minsheng sensor-credentials key --gateway CODE      # ... or for a gateway's devices
minsheng sensor-credentials mosquitto --out DIR     # password_file + acl_file for Mosquitto
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from minsheng.sensors import credentials
from minsheng.sensors.ingest.mqtt import topic_prefix
from minsheng.sensors.models import Device, Gateway


class Command(BaseCommand):
    help = "Issue device passwords and API keys; write Mosquitto's password and ACL files."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        pw = sub.add_parser("password", help="a new broker password for a device")
        pw.add_argument("device_id")
        key = sub.add_parser("key", help="an HTTP API key for a device or a gateway")
        holder = key.add_mutually_exclusive_group(required=True)
        holder.add_argument("--device")
        holder.add_argument("--gateway")
        key.add_argument("--name", default="")
        mq = sub.add_parser("mosquitto", help="password_file and acl_file for Mosquitto")
        mq.add_argument("--out", required=True, help="directory to write passwd and acl into")
        mq.add_argument(
            "--service-user",
            action="append",
            default=[],
            metavar="USER=PASSWORD",
            help="a login of Minsheng's own (the ingest process), repeatable; "
            "it may read and write everything under the prefix",
        )

    def handle(self, *args, what, **options):
        if what == "password":
            device = Device.objects.filter(device_id=options["device_id"]).first()
            if device is None:
                raise CommandError("No such device.")
            raw = credentials.set_mqtt_password(device)
            self.stdout.write(f"{device.device_id}: {raw}")
            self.stdout.write("Shown once; regenerate the Mosquitto files to let it in.")
        elif what == "key":
            if options["device"]:
                device = Device.objects.filter(device_id=options["device"]).first()
                if device is None:
                    raise CommandError("No such device.")
                raw = credentials.issue_api_key(device=device, name=options["name"])
            else:
                gateway = Gateway.objects.filter(code=options["gateway"]).first()
                if gateway is None:
                    raise CommandError("No such gateway.")
                raw = credentials.issue_api_key(gateway=gateway, name=options["name"])
            self.stdout.write(raw)
            self.stdout.write("Shown once: send it as the X-Api-Key header.")
        else:
            services = {}
            for spec in options["service_user"]:
                user, sep, password = spec.partition("=")
                if not sep or not user or not password:
                    raise CommandError("--service-user takes USER=PASSWORD")
                services[user] = password
            passwd, acl = credentials.mosquitto_files(topic_prefix(), services)
            out = Path(options["out"])
            out.mkdir(parents=True, exist_ok=True)
            (out / "passwd").write_text(passwd, encoding="utf-8")
            os.chmod(out / "passwd", 0o600)
            (out / "acl").write_text(acl, encoding="utf-8")
            self.stdout.write(f"wrote {out / 'passwd'} ({passwd.count(chr(10))} logins) and {out / 'acl'}")
