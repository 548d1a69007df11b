"""The ``kg`` command: a thin layer over the pipeline, the store and the web app."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from rdflib import Literal, URIRef
from rdflib.term import Node

from kg import formats
from kg.config import Config
from kg.pipeline.build import BuildError, build
from kg.pipeline.load import SourceError
from kg.pipeline.release import ReleaseError, current_release
from kg.store import QuerySyntaxError

_STORES = click.Choice(["oxigraph", "memory"])


def _config(ctx: click.Context) -> Config:
    return ctx.obj["config"]


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              help="Project folder with ontology/, data/ttl/ and shapes/ (default: this checkout).")
@click.option("--release-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where releases are written (default: ROOT/build/releases).")
@click.option("--store", type=_STORES, help="Store backend (default: oxigraph).")
@click.option("--reasoning", type=click.Choice(["owlrl", "rdfs", "none"]),
              help="Reasoning profile for the inferred graph (default: owlrl).")
@click.version_option(package_name="kazkor-kg")
@click.pass_context
def main(ctx: click.Context, root: Path | None, release_dir: Path | None, store: str | None,
         reasoning: str | None) -> None:
    """KazKor KG: build, validate, query and serve the Kazakhstan–Korea knowledge graph."""
    ctx.obj = {"config": Config.from_env(root=root.resolve() if root else None,
                                         release_dir=release_dir.resolve() if release_dir else None,
                                         store=store, reasoning=reasoning)}


def _build_or_exit(config: Config, force: bool = False):  # type: ignore[no-untyped-def]
    try:
        return build(config, force=force, progress=_say)
    except SourceError as e:
        _say(f"error: {e}")
        _say("The build stopped; the previous release stays served.")
        sys.exit(2)
    except BuildError as e:
        _say(f"error: {e}")
        sys.exit(1)


@main.command("build")
@click.option("--force", is_flag=True, help="Build even if a release of the same inputs exists.")
@click.pass_context
def build_command(ctx: click.Context, force: bool) -> None:
    """Load, validate and reason over the sources and write a release."""
    result = _build_or_exit(_config(ctx), force)
    report = result.release.report
    click.echo(json.dumps({"release": result.release.id, "reused": result.reused,
                           "path": str(result.release.path), "triples": report["triples"],
                           "validation": report["validation"]["after_reasoning"]}, indent=2))


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int,
              help="gunicorn worker processes.")
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Build the release if the sources changed, then serve it with gunicorn."""
    from kg.web.server import serve

    config = _config(ctx)
    result = _build_or_exit(config)
    serve(config, result.release, host=host, port=port, workers=workers)


def _term_text(term: Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return str(term)
    return term.n3()


def _table(variables: list[str], rows: list[tuple[Node | None, ...]]) -> str:
    cells = [[_term_text(t) for t in row] for row in rows]
    widths = [max([len(v) + 1] + [len(r[i]) for r in cells]) for i, v in enumerate(variables)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "| " + " | ".join(("?" + v).ljust(w) for v, w in zip(variables, widths,
                                                                       strict=True)) + " |", line]
    out += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
            for r in cells]
    out += [line, f"{len(cells)} row(s)"]
    return "\n".join(out)


@main.command("query")
@click.argument("sparql")
@click.option("--format", "output_format", default="table", show_default=True,
              type=click.Choice(["table", *formats.BY_NAME]),
              help="table (readable), or a result/RDF format of the registry.")
@click.pass_context
def query_command(ctx: click.Context, sparql: str, output_format: str) -> None:
    """Run a SPARQL query against the current release. Use '-' to read it from stdin."""
    config = _config(ctx)
    if sparql == "-":
        sparql = sys.stdin.read()
    release = current_release(config) or _build_or_exit(config).release
    try:
        store = release.open_store(config.store)
        result = store.query(sparql)
        if output_format != "table":
            sys.stdout.buffer.write(result.serialize(output_format))
        elif result.kind == "bindings":
            click.echo(_table(result.variables, list(result.rows())))
        elif result.kind == "boolean":
            click.echo("true" if result.boolean else "false")
        else:
            sys.stdout.buffer.write(result.serialize("turtle"))
    except QuerySyntaxError as e:
        _say(f"error: malformed query: {e}")
        sys.exit(2)
    except ValueError as e:
        _say(f"error: {e}")
        sys.exit(2)
    except ReleaseError as e:
        _say(f"error: {e}")
        sys.exit(1)


@main.command("info")
@click.pass_context
def info_command(ctx: click.Context) -> None:
    """What the current release holds: graphs, triple counts, validation, timings."""
    config = _config(ctx)
    release = current_release(config)
    if release is None:
        _say(f"there is no release in {config.releases}; run `kg build`")
        sys.exit(1)
    try:
        release.check()
    except ReleaseError as e:
        _say(f"error: {e}")
        sys.exit(1)
    report = release.report
    t = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(release.dataset.stat().st_mtime))
    click.echo(f"release   {release.id}  ({release.path}, built {t})")
    click.echo(f"base IRI  {report['base_iri']}")
    click.echo(f"reasoning {report['reasoning']}")
    click.echo("graphs")
    for name, iri in report["graphs"].items():
        click.echo(f"  {name:<9} {report['triples'].get(name, 0):>8} triples  <{iri}>")
    click.echo(f"  {'total':<9} {report['triples']['total']:>8} triples")
    v = report["validation"]["after_reasoning"]
    click.echo(f"validation {v['violations']} violation(s), {v['warnings']} warning(s)")
    click.echo(f"build time {report['timings_seconds']['total']} s")


@main.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json", "turtle"]),
              default="text", show_default=True,
              help="text: grouped by file and subject; json: the same for machines; "
                   "turtle: the SHACL validation report graph.")
@click.pass_context
def validate_command(ctx: click.Context, files: tuple[Path, ...], output_format: str) -> None:
    """Check the sources against the SHACL shapes, or check new FILES (Turtle) together
    with the rest of the graph before they go in; a file named like one in data/ttl/
    replaces it.

    Exit status: 0 no violations (warnings allowed), 1 violations, 2 unusable input.
    """
    from kg.pipeline.validate import (
        CONFORMS,
        UNUSABLE_INPUT,
        VIOLATIONS,
        ShapesError,
        validate_sources,
    )

    config = _config(ctx)
    contributed = [f.resolve() for f in files]
    for path in contributed:
        replaced = config.data_dir / path.name
        if replaced.exists() and replaced != path:
            _say(f"checking {path} in place of {replaced}")
        elif replaced != path:
            _say(f"checking {path} as a new data file")
    started = time.perf_counter()
    try:
        report = validate_sources(config, contributed)
    except (SourceError, ShapesError) as e:
        _say(f"error: {e}")
        sys.exit(UNUSABLE_INPUT)
    if output_format == "json":
        click.echo(report.to_json())
    elif output_format == "turtle":
        click.echo(report.to_turtle())
    else:
        click.echo(report.to_text())
    shapes = report.shapes
    _say(f"validated against {shapes['node_shapes']} node shapes, {shapes['property_shapes']} "
         f"property shapes ({shapes['constraints']} constraints) in "
         f"{time.perf_counter() - started:.2f} s: {report.summary_line()}")
    sys.exit(VIOLATIONS if report.violations else CONFORMS)
