"""The model card of clipdesk-imagenet: CARD.md's fields filled from metrics.json.

Every figure in the card comes from the bundle's metrics.json, so the card can be rewritten from
them at any time (tests/models/test_imagenet_model.py checks that the committed card is exactly
what this writes).
"""

from __future__ import annotations

import textwrap
from pathlib import Path


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _num(x, fmt="{:.2f}") -> str:
    return "n/a" if x is None else fmt.format(x)


def figures(real: dict | None) -> dict:
    """The headline figures of one model on the real-photo corpus (tests/models/realphotos.py)."""
    if not real:
        return {}
    s, t, m, d = real.get("search", {}), real.get("tags", {}), real.get("similar", {}), real.get("duplicates", {})
    return {
        "first": _pct(s.get("first_right")), "queries": str(s.get("queries", "n/a")),
        "p5": _num(s.get("precision_at_5")), "p5_queries": str(s.get("queries_with_5_right", "n/a")),
        "tags": _pct(t.get("right_in_top")), "tag_photos": str(t.get("photos", "n/a")),
        "tag_precision": _pct(t.get("precision")), "tag_judged": str(t.get("judged_tags", "n/a")),
        "tag_certain": _pct(t.get("shown_at_100")),
        "similar": f"{m.get('partner_first', 'n/a')} of {m.get('pairs', 'n/a')}",
        "dup_copies": f"{d.get('copies_with_original', 'n/a')} of {d.get('copies', 'n/a')}",
        "dup_joined": str(d.get("groups_joining_different_photos", "n/a")),
    }


def query_table(real: dict | None, base: dict | None, key: str = "search") -> str:
    if not real or key not in real:
        return "(not measured)"
    base_rows = {r["query"]: r for r in (base or {}).get(key, {}).get("rows", [])}
    lines = ["| query | right photos | first result right | precision of top 5 | clipdesk-mini: first right |",
             "| --- | --- | --- | --- | --- |"]
    for r in real[key]["rows"]:
        b = base_rows.get(r["query"])
        lines.append(f"| {r['query']} | {r['right_photos']} | {'yes' if r['first_right'] else 'no'} | "
                     f"{r['precision_at_5']:.1f} | {'n/a' if b is None else ('yes' if b['first_right'] else 'no')} |")
    return "\n".join(lines)


def tags_note(real: dict | None) -> str:
    """What the tag row means: the target met or missed, and which photos get no right tag."""
    tags = (real or {}).get("tags")
    if not tags:
        return "Tags were not measured."
    missed = [r for r in tags["rows"] if not r["right"]]
    verdict = "meet" if tags["right_in_top"] >= 0.8 else "miss"
    return textwrap.fill(f"**Tags {verdict} the target** ({_pct(tags['right_in_top'])} against 80%). The {len(missed)} photos "
            "without a right tag among their top 5 are mostly landscapes and fields (ImageNet has a valley and "
            "an alp, not a meadow), flowers ImageNet has no class for (roses), buildings at night that the "
            "classifier takes for the fountain in front of them, and small things on a table; "
            f"{tags['no_tags']} of the {tags['photos']} photos got no tag at all. Of the corpus's "
            f"{tags['people_photos']} photos of people, {tags['people_with_animal_tags']} got an animal tag "
            "(see above).", width=96)


def card_text(template: str, metrics: dict, bundle: Path) -> str:
    t = metrics["training"]
    run = metrics["run"]
    text = metrics["text"]
    ours = figures(metrics.get("real_photos"))
    base = figures(metrics.get("real_photos_baseline"))
    unknown = metrics.get("real_photos", {}).get("unknown", {})
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and p.name not in ("README.md", "manifest.json"))
    fields = {
        "command": metrics["command"], "machine": metrics["machine"],
        "wall": f"{run['wall_s'] / 60:.1f}", "cpu": f"{run['cpu_s'] / 60:.1f}",
        "busy": f"{run['machine_busy_share']:.0%}", "others": f"{run['others_cpu_s'] / 60:.1f}",
        "load0": f"{run['load_average_start']:.1f}", "load1": f"{run['load_average_end']:.1f}",
        "steps": str(t["steps"]), "batch": str(t["batch"]), "texts_seen": f"{t['texts_seen']:,}",
        "tparams": f"{t['parameters']:,}", "width": str(t["width"]), "layers": str(t["layers"]),
        "heads": str(t["heads"]), "vocab": f"{t['vocab_size']:,}", "names": f"{t['names']:,}",
        "definitions": f"{t['definitions']:,}", "axes": f"{t['concept_axes']:,}", "families": str(t["families"]),
        "lr": f"{t['lr']:g}", "seed": str(t["seed"]),
        "image_diff": f"{metrics['export']['image_max_abs_diff']:.1e}",
        "text_diff": f"{metrics['export']['text_max_abs_diff']:.1e}",
        "held_out": _pct(text["fp32"]["held_out_templates"]), "defs": _pct(text["fp32"]["definitions"]),
        "held_out8": _pct(text["int8"]["held_out_templates"]), "defs8": _pct(text["int8"]["definitions"]),
        "size8": f"{text['int8']['size_bytes'] / 1e6:.1f}", "size32": f"{text['fp32']['size_bytes'] / 1e6:.1f}",
        "shipped": text["shipped"], "size_mb": f"{size / 1e6:.1f}",
        "query_table": query_table(metrics.get("real_photos"), metrics.get("real_photos_baseline")),
        "unknown_first": _pct(unknown.get("first_right")), "unknown_queries": str(unknown.get("queries", "n/a")),
        "held_out_all": _pct(text["fp32"].get("held_out_templates_all")),
        "held_out_all8": _pct(text["int8"].get("held_out_templates_all")),
        "core_names": f"{t.get('core_names', 0):,}",
        "people_photos": str(metrics.get("real_photos", {}).get("tags", {}).get("people_photos", "n/a")),
        "people_animal": str(metrics.get("real_photos", {}).get("tags", {}).get("people_with_animal_tags", "n/a")),
    }
    fields["tags_note"] = tags_note(metrics.get("real_photos"))
    for k, v in ours.items():
        fields[k] = v
    for k, v in base.items():
        fields["mini_" + k] = v
    out = template
    for k, v in fields.items():
        out = out.replace("{" + k + "}", v)
    return out
