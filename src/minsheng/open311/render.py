"""GeoReport v2's two formats: the same answer as JSON or as XML, and errors in the
standard's shape (``[{"code": 404, "description": "..."}]``, ``<errors><error>…``)."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

FORMATS = ("json", "xml")
# XML's element for one item of a list, by the list's element.
ITEM = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for name, inner in value.items():
            _fill(ET.SubElement(element, name), inner)
    elif isinstance(value, list):
        for inner in value:
            _fill(ET.SubElement(element, ITEM.get(element.tag, "item")), inner)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def answer(fmt: str, root: str, value: Any, *, status: int = 200) -> HttpResponse:
    """``value`` (a list, or one object for a service definition) under ``root`` in XML."""
    if fmt == "xml":
        return HttpResponse(to_xml(root, value), status=status, content_type="text/xml; charset=utf-8")
    body = json.dumps(value, ensure_ascii=False)
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return answer(fmt, "errors", [{"code": status, "description": description}], status=status)
