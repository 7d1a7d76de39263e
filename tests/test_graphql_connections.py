"""Cursor connections: a page of ``first`` from ``first + 1`` items read, cursors from the
items' ids, and nodes made of the page's items only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from loyalty_core.graphql.common import Cursors, connection


@dataclass
class Row:
    id: uuid.UUID
    name: str


ROWS = [Row(uuid.uuid4(), f"row {i}") for i in range(3)]
CURSORS = Cursors(uuid.uuid4(), "rows")


def test_nodes_are_made_of_the_page_only() -> None:
    made: list[Row] = []

    def node_of(row: Row) -> str:
        made.append(row)
        return row.name.upper()

    page = connection(CURSORS, ROWS, 2, lambda row: row.id, node_of)

    assert [edge.node for edge in page.edges] == ["ROW 0", "ROW 1"]
    assert made == ROWS[:2]  # the extra row only tells there is a next page
    assert [CURSORS.decode(edge.cursor) for edge in page.edges] == [ROWS[0].id, ROWS[1].id]
    assert page.page_info.has_next_page is True
    assert page.page_info.end_cursor == page.edges[-1].cursor


def test_without_node_of_the_items_are_the_nodes() -> None:
    page = connection(CURSORS, ROWS, 5, lambda row: row.id)

    assert [edge.node for edge in page.edges] == ROWS
    assert page.page_info.has_next_page is False
    assert page.page_info.start_cursor == page.edges[0].cursor


def test_an_empty_page_has_no_cursors() -> None:
    page = connection(CURSORS, [], 20, lambda row: row.id, str)
    assert page.edges == []
    assert page.page_info.start_cursor is None
    assert page.page_info.end_cursor is None
