"""The `f=html` pages of OGC API Features: plain server-rendered HTML, every value escaped, no script
and nothing loaded from elsewhere (a browser shows what the JSON says, with its links)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

STYLE = ("body{font-family:sans-serif;margin:1.5em;max-width:80em}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
         "pre{background:#f6f6f6;padding:.5em;overflow:auto}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return escape(json.dumps(value, ensure_ascii=False))
    return escape(str(value))


def link_list(links: Iterable[dict[str, Any]]) -> str:
    items = [f'<li><a href="{escape(str(link["href"]))}">{_text(link.get("title") or link["rel"])}</a> '
             f'({_text(link["rel"])}, {_text(link.get("type", ""))})</li>' for link in links]
    return "<ul>" + "".join(items) + "</ul>"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{_text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_text(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(*, title: str, description: str = "", links: Iterable[dict[str, Any]] = (), body: str = "") -> str:
    """A whole page: the title, a description, the document's links, then `body` (already escaped)."""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_text(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{_text(title)}</h1>"
            + (f"<p>{_text(description)}</p>" if description else "")
            + f"<h2>Links</h2>{link_list(links)}{body}</body></html>")


def document(data: dict[str, Any]) -> str:
    """Any JSON document shown as-is (conformance, queryables), escaped."""
    return f"<pre>{_text(data)}</pre>"


def features_table(features: list[dict[str, Any]]) -> str:
    """Features as a table: id, geometry type and every property any of them has."""
    names = list(dict.fromkeys(name for f in features for name in (f.get("properties") or {})))
    rows = [[f.get("id"), (f.get("geometry") or {}).get("type"),
             *((f.get("properties") or {}).get(name) for name in names)] for f in features]
    return table(["id", "geometry", *names], rows)
