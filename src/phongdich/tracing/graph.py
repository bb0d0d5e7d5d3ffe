"""The chain-of-transmission picture: cases, venues and contacts as a graph, drawn server-side as
SVG (no Graphviz needed). Columns left to right: the case (and the case it came from, if it was
someone's contact), the venues it stayed at, its F1s, then F2s and the cases its F1s became.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.models import Case, Contact, EpiTimeline, ExposureCandidate, Person

MAX_PER_COLUMN = 40
COLUMN_WIDTH, ROW_HEIGHT, NODE_W, NODE_H, MARGIN = 230, 46, 190, 32, 20
COLOURS = {
    "case": ("#b71c1c", "#ffffff"),
    "source_case": ("#7f0000", "#ffffff"),
    "venue": ("#1565c0", "#ffffff"),
    "f1": ("#ef6c00", "#ffffff"),
    "f2": ("#f9a825", "#202020"),
    "more": ("#eeeeee", "#202020"),
}


@dataclass
class Node:
    key: str
    kind: str  # case / source_case / venue / f1 / f2 / more
    label: str
    title: str
    column: int
    href: str | None = None


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, label)

    def add(self, node: Node) -> None:
        if all(n.key != node.key for n in self.nodes):
            self.nodes.append(node)


def chain_graph(session: Session, case_obj: Case) -> Graph:
    """Build the graph from stored records only: the mốc dịch tễ, contacts and candidates."""
    g = Graph()
    people_ids = {case_obj.person_id}
    contacts = list(
        session.scalars(select(Contact).where(Contact.case_id == case_obj.id).order_by(Contact.id))
    )
    people_ids |= {c.person_id for c in contacts}
    came_from = session.scalar(select(Contact).where(Contact.became_case_id == case_obj.id))
    source_case = session.get(Case, came_from.case_id) if came_from else None
    offspring = {
        c.id: session.get(Case, c.became_case_id) for c in contacts if c.became_case_id is not None
    }
    names = dict(
        session.execute(select(Person.id, Person.full_name).where(Person.id.in_(people_ids))).all()
    )
    g.add(Node(f"case{case_obj.id}", "case", case_obj.code, names.get(case_obj.person_id, ""), 0))
    if source_case is not None:
        g.add(
            Node(
                f"case{source_case.id}",
                "source_case",
                source_case.code,
                "F0",
                0,
                f"/tracing/cases/{source_case.id}",
            )
        )
        g.edges.append((f"case{source_case.id}", f"case{case_obj.id}", "F1 → F0"))
    timeline = session.scalar(select(EpiTimeline).where(EpiTimeline.case_id == case_obj.id))
    for entry in (timeline.entries if timeline else [])[:MAX_PER_COLUMN]:
        key = f"venue{entry['venue_id']}"
        g.add(Node(key, "venue", entry["venue"], entry.get("commune", ""), 1))
        if (f"case{case_obj.id}", key, "") not in g.edges:
            g.edges.append((f"case{case_obj.id}", key, ""))
    where_met = _venues_by_person(session, case_obj)
    venue_keys = {n.key for n in g.nodes if n.kind == "venue"}
    shown = 0
    for c in contacts:
        if c.generation != 1:
            continue
        if shown >= MAX_PER_COLUMN:
            g.add(Node("more1", "more", "…", "", 2))
            break
        shown += 1
        key = f"contact{c.id}"
        g.add(Node(key, "f1", names.get(c.person_id, ""), "F1", 2))
        met = [f"venue{v}" for v in where_met.get((1, c.person_id), [])]
        met = [m for m in met if m in venue_keys]
        for m in met or [f"case{case_obj.id}"]:
            g.edges.append((m, key, "" if met else "hộ gia đình"))
        new_case = offspring.get(c.id)
        if new_case is not None:
            g.add(
                Node(
                    f"case{new_case.id}",
                    "case",
                    new_case.code,
                    "F1 → F0",
                    3,
                    f"/tracing/cases/{new_case.id}",
                )
            )
            g.edges.append((key, f"case{new_case.id}", "F0"))
    shown = 0
    for c in contacts:
        if c.generation != 2:
            continue
        if shown >= MAX_PER_COLUMN:
            g.add(Node("more2", "more", "…", "", 3))
            break
        shown += 1
        key = f"contact{c.id}"
        g.add(Node(key, "f2", names.get(c.person_id, ""), "F2", 3))
        g.edges.append((f"contact{c.source_contact_id}", key, ""))
    return g


def _venues_by_person(session: Session, case_obj: Case) -> dict[tuple[int, int], list[int]]:
    """Where each confirmed candidate met the case (from the stored explanations)."""
    out: dict[tuple[int, int], list[int]] = {}
    for cand in session.scalars(
        select(ExposureCandidate).where(
            ExposureCandidate.case_id == case_obj.id, ExposureCandidate.status == "confirmed"
        )
    ):
        venues = list(dict.fromkeys(x["venue_id"] for x in cand.explanation.get("contacts", [])))
        out[(cand.generation, cand.person_id)] = venues
    return out


def _short(text: str, n: int = 26) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def render_svg(g: Graph, *, title: str = "") -> str:
    """The graph as a standalone SVG document (nodes in columns, edges as curves)."""
    columns: dict[int, list[Node]] = {}
    for n in g.nodes:
        columns.setdefault(n.column, []).append(n)
    pos: dict[str, tuple[float, float]] = {}
    for col, nodes in columns.items():
        for i, n in enumerate(nodes):
            pos[n.key] = (MARGIN + col * COLUMN_WIDTH, MARGIN + 24 + i * ROW_HEIGHT)
    rows = max((len(v) for v in columns.values()), default=1)
    width = MARGIN * 2 + (max(columns, default=0) + 1) * COLUMN_WIDTH
    height = MARGIN * 2 + 24 + rows * ROW_HEIGHT
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{quoteattr(title)[1:-1]}" '
        'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    for a, b, label in g.edges:
        if a not in pos or b not in pos:
            continue
        (x1, y1), (x2, y2) = pos[a], pos[b]
        x1, y1, y2 = x1 + NODE_W, y1 + NODE_H / 2, y2 + NODE_H / 2
        mid = (x1 + x2) / 2
        out.append(
            f'<path class="edge" d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} '
            f'{x2:.0f},{y2:.0f}" fill="none" stroke="#888" stroke-width="1.2"/>'
        )
        if label:
            out.append(
                f'<text x="{mid:.0f}" y="{(y1 + y2) / 2 - 3:.0f}" fill="#555" font-size="10" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    for n in g.nodes:
        x, y = pos[n.key]
        fill, ink = COLOURS[n.kind]
        shape = (
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" '
            f'rx="{4 if n.kind == "venue" else 16}" fill="{fill}"/>'
        )
        text = (
            f'<text x="{x + NODE_W / 2:.0f}" y="{y + NODE_H / 2 + 4:.0f}" fill="{ink}" '
            f'text-anchor="middle">{escape(_short(n.label))}</text>'
        )
        body = f'<g class="node {n.kind}"><title>{escape(n.title)}</title>{shape}{text}</g>'
        if n.href:
            body = f'<a href="{escape(n.href)}">{body}</a>'
        out.append(body)
    out.append("</svg>")
    return "\n".join(out)
