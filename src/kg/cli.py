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
from kg.config import GRAPH_NAMES, Config
from kg.pipeline.build import BuildError, build
from kg.pipeline.load import SourceError
from kg.pipeline.release import ReleaseError, Releases, Version
from kg.store import BACKENDS, QuerySyntaxError, Store, StoreError, parse_spec


class Fail(click.ClickException):
    """Stops a command with ``error: MESSAGE`` on standard error and an exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        # click types exit_code as a class variable; what it reads is this instance's
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class _StoreSpec(click.ParamType):
    name = "|".join(f"{b.name}:URL" if b.takes_argument else b.name for b in BACKENDS.values())

    def convert(self, value: str, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        try:
            parse_spec(value)
        except StoreError as e:
            self.fail(str(e), param, ctx)
        return value


_STORES = _StoreSpec()


def _config(ctx: click.Context) -> Config:
    return ctx.obj["config"]


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              help="Project folder with ontology/, data/ttl/ and shapes/ (default: this checkout).")
@click.option("--release-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where releases are written (default: ROOT/build/releases).")
@click.option("--store", type=_STORES,
              help="Store backend: oxigraph (default), memory, or remote:URL (a SPARQL server).")
@click.option("--reasoning", type=click.Choice(["owlrl", "rdfs", "none"]),
              help="Reasoning profile for the inferred graph (default: owlrl).")
@click.option("--reasoner", type=click.Choice(["auto", "owlrl", "reasonable"]),
              help="Engine of the closure (default: auto, reasonable from 50,000 triples).")
@click.version_option(package_name="kazkor-kg")
@click.pass_context
def main(ctx: click.Context, root: Path | None, release_dir: Path | None, store: str | None,
         reasoning: str | None, reasoner: str | None) -> None:
    """KazKor KG: build, validate, query and serve the Kazakhstan–Korea knowledge graph."""
    try:
        config = Config.from_env(root=root.resolve() if root else None,
                                 release_dir=release_dir.resolve() if release_dir else None,
                                 store=store, reasoning=reasoning, reasoner=reasoner)
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    ctx.obj = {"config": config}


def _build(config: Config, force: bool = False) -> Version:
    """The current version, built from the sources when they changed."""
    try:
        return build(config, force=force, progress=_say).release
    except SourceError as e:
        raise Fail(f"{e}\nThe build stopped; the previous release stays served.", 2) from e
    except BuildError as e:
        raise Fail(str(e)) from e


def _current(config: Config) -> Version:
    """The current version, checked (built first when there is none)."""
    version = Releases.of(config).current() or _build(config)
    try:
        version.check()
    except ReleaseError as e:
        raise Fail(str(e)) from e
    return version


@main.command("build")
@click.option("--force", is_flag=True, help="Build even if a release of the same inputs exists.")
@click.pass_context
def build_command(ctx: click.Context, force: bool) -> None:
    """Load, validate and reason over the sources and write a release."""
    try:
        result = build(_config(ctx), force=force, progress=_say)
    except SourceError as e:
        raise Fail(f"{e}\nThe build stopped; the previous release stays served.", 2) from e
    except BuildError as e:
        raise Fail(str(e)) from e
    report = result.release.report
    click.echo(json.dumps({"release": report.release, "version": result.release.id,
                           "reused": result.reused, "path": str(result.release.path),
                           "triples": report.triples,
                           "validation": report.validation["after_reasoning"]}, indent=2))


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int,
              help="gunicorn worker processes.")
@click.option("--store", type=_STORES,
              help="Serve from this store (as kg --store): e.g. remote:http://host:8890/sparql.")
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, workers: int,
                  store: str | None) -> None:
    """Build the release if the sources changed, have a query process open it (exit 1 if
    it cannot), then serve it with gunicorn."""
    from kg.pipeline.build import build_in_subprocess
    from kg.web.server import ServeError, serve

    config = _config(ctx)
    if store is not None:
        config = config.with_(store=store)
    try:
        build_in_subprocess(config)
    except BuildError as e:
        raise Fail(str(e), e.status) from e
    try:
        serve(config, host=host, port=port, workers=workers)
    except ServeError as e:
        raise Fail(str(e)) from e


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


def _store(config: Config) -> tuple[Version, Store]:
    """The current version (built first if there is none) and its store."""
    version = _current(config)
    try:
        return version, version.open_store(config.store)
    except ReleaseError as e:
        raise Fail(str(e)) from e


@main.command("query")
@click.argument("sparql")
@click.option("--format", "output_format", default="table", show_default=True,
              type=click.Choice(["table", *formats.BY_NAME]),
              help="table (readable), or a result/RDF format of the registry.")
@click.option("--asserted", is_flag=True,
              help="Asserted facts only: the default graph is ontology + data + links + meta, "
                   "without the inferred graph.")
@click.pass_context
def query_command(ctx: click.Context, sparql: str, output_format: str, asserted: bool) -> None:
    """Run a SPARQL query against the current release. Use '-' to read it from stdin."""
    from kg.sparqltext import SparqlSyntaxError, inspect_cached

    config = _config(ctx)
    if sparql == "-":
        sparql = sys.stdin.read()
    try:
        inspection = inspect_cached(sparql)
    except SparqlSyntaxError as e:
        raise Fail(f"malformed query: {e}", 2) from e
    if asserted and inspection.has_dataset_clause:
        raise Fail("--asserted chooses the graphs, but the query names its own with FROM; "
                   "drop one of them", 2)
    asserted_graphs = ("ontology", "data", "links", "meta")
    graphs = [config.graph_iri(n) for n in asserted_graphs] if asserted else []
    _, store = _store(config)
    try:
        result = store.query(sparql, default_graph_uris=graphs, named_graph_uris=graphs,
                             union_default_graph=not inspection.has_dataset_clause,
                             base_iri=config.base_iri)
        if output_format != "table":
            sys.stdout.buffer.write(result.serialize(output_format))
        elif result.kind == "bindings":
            click.echo(_table(result.variables, list(result.rows())))
        elif result.kind == "boolean":
            click.echo("true" if result.boolean else "false")
        else:
            sys.stdout.buffer.write(result.serialize("turtle"))
    except QuerySyntaxError as e:
        raise Fail(f"malformed query: {e}", 2) from e
    except ValueError as e:
        raise Fail(str(e), 2) from e


@main.command("info")
@click.pass_context
def info_command(ctx: click.Context) -> None:
    """What the current release holds: graphs, triple counts, validation, timings."""
    config = _config(ctx)
    version = Releases.of(config).current()
    if version is None:
        raise Fail(f"there is no release in {config.releases}; run `kg build`")
    try:
        version.check()
    except ReleaseError as e:
        raise Fail(str(e)) from e
    report = version.report
    made = "built" if report.origin == "sources" else f"update {report.generation} of " \
        f"release {report.release},"
    click.echo(f"release   {version.id}  ({version.path}, {made} {report.created})")
    click.echo(f"base IRI  {report.base_iri}")
    click.echo(f"reasoning {report.reasoning}")
    if closure := report.closure:
        origin = "reused from the cache" if closure.get("cached") else f"{closure['seconds']} s"
        click.echo(f"closure   {closure['engine']}: {closure['inferred']} inferred triples kept, "
                   f"{closure['filtered_total']} filtered ({origin})")
    click.echo("graphs")
    for name, iri in report.graphs.items():
        click.echo(f"  {name:<9} {report.triples.get(name, 0):>8} triples  <{iri}>")
    click.echo(f"  {'total':<9} {report.triple_count:>8} triples")
    v = report.validation["after_reasoning"]
    click.echo(f"validation {v['violations']} violation(s), {v['warnings']} warning(s)")
    click.echo(f"build time {report.timings_seconds['total']} s")


@main.command("verify")
@click.argument("version_id", metavar="[VERSION]", required=False)
@click.pass_context
def verify_command(ctx: click.Context, version_id: str | None) -> None:
    """Check that a version (the current one, or VERSION, e.g. 8b155fae0c5f8977-2) is
    complete and that every file holding its data has the SHA-256 recorded when it was
    built: the dataset, the Oxigraph index, the dumps, the validation report.

    Exit status: 0 sound, 1 damaged or missing (each damaged file is named).
    """
    config = _config(ctx)
    releases = Releases.of(config)
    if version_id is not None and ("/" in version_id or version_id.startswith(".")):
        raise Fail(f"{version_id!r} is not a version name; `ls {config.releases}` lists them")
    version = releases.version(version_id) if version_id else releases.current()
    if version is None:
        raise Fail(f"there is no release in {config.releases}; run `kg build`")
    try:
        version.check()
        damage = version.damage()
    except ReleaseError as e:
        click.echo(str(e))
        sys.exit(1)
    if damage:
        click.echo(f"version {version.id} is damaged:")
        for problem in damage:
            click.echo(f"  {problem}")
        sys.exit(1)
    files = version.report.files
    if files:
        click.echo(f"version {version.id} is sound: its {len(files)} data files have the "
                   "SHA-256 recorded at build")
    else:
        click.echo(f"version {version.id} is complete, but it was built before checksums were "
                   "recorded: `kg build --force` records them")


@main.command("diff")
@click.argument("old")
@click.argument("new", default="current")
@click.pass_context
def diff_command(ctx: click.Context, old: str, new: str) -> None:
    """Print the changes from version OLD to version NEW (default: the current one) as RDF
    Patch: the removed quads (D rows), then the added ones (A rows), blank nodes named as
    in the N-Quads dumps. Any two versions of the history, those that retention removed
    too (rebuilt from the first version and the changesets); 'current' names the served
    version. The counts go to standard error.
    """
    import uuid

    from kg.pipeline.changes import Changes
    from kg.pipeline.history import History

    config = _config(ctx)
    releases = Releases.of(config)
    names = []
    for name in (old, new):
        if name == "current":
            current = releases.current()
            if current is None:
                raise Fail(f"there is no release in {config.releases}; run `kg build`")
            name = current.id
        if "/" in name or name.startswith("."):
            raise Fail(f"{name!r} is not a version name; `kg versions` lists them")
        names.append(name)
    history = History(releases)
    try:
        changes = Changes.between(history.lines_of(names[0]), history.lines_of(names[1]))
    except ReleaseError as e:
        raise Fail(str(e)) from e
    patch = uuid.uuid5(uuid.NAMESPACE_URL, f"{config.base_iri}release/{names[0]}/diff/{names[1]}")
    sys.stdout.buffer.write(changes.patch(f"uuid:{patch}"))
    _say(f"version {names[0]} -> {names[1]}: {len(changes.removed)} quads removed, "
         f"{len(changes.added)} added")


@main.command("versions")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
def versions_command(ctx: click.Context, output_format: str) -> None:
    """The history: every version made current, oldest first, with when, how and what it
    changed (the same list as /releases)."""
    from dataclasses import asdict

    from kg.pipeline.history import History

    config = _config(ctx)
    history = History(Releases.of(config))
    steps = history.steps()
    if output_format == "json":
        click.echo(json.dumps([{**asdict(s), "kept": history.kept(s.version)} for s in steps],
                              indent=2))
        return
    if not steps:
        click.echo(f"no version has been made in {config.releases} yet; run `kg build`")
        return
    for s in steps:
        after = f" after {s.previous}: +{s.added_total} -{s.removed_total} quads" \
            if s.previous else ""
        kept = "" if history.kept(s.version) else " (removed: changes and record only)"
        click.echo(f"{s.number:>4}  {s.version:<24} {s.created}  {s.kind}{after}{kept}")


@main.command("dump")
@click.option("--format", "format_name", default="nquads", show_default=True,
              type=click.Choice([f.name for f in formats.rdf_formats()]),
              help="RDF format; N-Quads and TriG keep the named graphs, the others hold their "
                   "union.")
@click.option("--out", "out_path", default="-", show_default=True,
              help="File to write ('-' for standard output); a name ending in .gz is "
                   "gzip-compressed.")
@click.option("--graph", "graph_name", type=click.Choice(list(GRAPH_NAMES)),
              help="Only this named graph.")
@click.pass_context
def dump_command(ctx: click.Context, format_name: str, out_path: str,
                 graph_name: str | None) -> None:
    """Write the current release (or one of its named graphs) in an RDF format."""
    import gzip

    config = _config(ctx)
    release, store = _store(config)
    graph = config.graph_iri(graph_name) if graph_name else None
    try:
        if out_path == "-":
            store.dump(sys.stdout.buffer, format_name, graph)
            return
        with open(out_path, "wb") as file:
            if out_path.endswith(".gz"):
                with gzip.GzipFile(fileobj=file, mode="wb", mtime=0) as compressed:
                    # a binary file, which typeshed's GzipFile is not declared to be
                    store.dump(compressed, format_name, graph)  # type: ignore[arg-type]
            else:
                store.dump(file, format_name, graph)
    except OSError as e:
        raise Fail(f"cannot write {out_path}: {e.strerror}") from e
    _say(f"wrote release {release.id} as {formats.by_name(format_name).label} to {out_path}")


@main.command("publish")
@click.option("--to", "sparql_url", required=True,
              help="The SPARQL endpoint of the server (e.g. http://127.0.0.1:8890/sparql).")
@click.option("--graph-store", "graph_store_url",
              help="Its Graph Store Protocol URL (default for Virtuoso: /sparql-graph-crud-auth).")
@click.option("--user", envvar="KG_REMOTE_USER", help="User allowed to write graphs.")
@click.option("--password", envvar="KG_REMOTE_PASSWORD", help="Its password.")
@click.option("--virtuoso-isql", envvar="KG_VIRTUOSO_ISQL", metavar="HOST:PORT",
              help="A Virtuoso on this machine: load with its bulk loader through isql-vt.")
@click.option("--load-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the bulk loader reads the graphs (in Virtuoso's DirsAllowed; "
                   "default: RELEASE_DIR/virtuoso-load).")
@click.pass_context
def publish_command(ctx: click.Context, sparql_url: str, graph_store_url: str | None,
                    user: str | None, password: str | None, virtuoso_isql: str | None,
                    load_dir: Path | None) -> None:
    """Push the current release's named graphs to a SPARQL server (each graph replaced)."""
    from kg.pipeline.publish import PublishError, Target, publish_release

    config = _config(ctx)
    release = _current(config)
    target = Target(sparql_url, graph_store_url, user, password, virtuoso_isql,
                    load_dir.resolve() if load_dir else None)
    try:
        counts = publish_release(release, target, progress=_say)
    except (PublishError, StoreError, ReleaseError) as e:
        raise Fail(str(e)) from e
    click.echo(json.dumps({"release": release.id, "to": sparql_url, "triples": counts},
                          indent=2))


@main.group("links")
def links_group() -> None:
    """Links to other datasets (the links graph, data/ttl/links*.ttl)."""


@links_group.command("check")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--reference", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The table of verified identifiers (external-ids.tsv): each link's "
                   "identifier must be the one its row gives.")
@click.pass_context
def links_check_command(ctx: click.Context, output_format: str, reference: Path | None) -> None:
    """Validate every link offline: the IRI form of each target, one identifier per entity and
    target, one entity per identifier, the evidence, and that each linked entity exists in the
    data graph (exit 0: all good, 1: problems, 2: unusable input)."""
    from kg.pipeline.links import check_links

    try:
        report = check_links(_config(ctx.find_root()), reference)
    except SourceError as e:
        raise Fail(str(e), 2) from e
    click.echo(report.to_json() if output_format == "json" else report.to_text())
    sys.exit(0 if report.ok else 1)


@main.command("why")
@click.argument("subject")
@click.argument("predicate")
@click.argument("object_")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
def why_command(ctx: click.Context, subject: str, predicate: str, object_: str,
                output_format: str) -> None:
    """Explain how the triple SUBJECT PREDICATE OBJECT follows from asserted triples.

    Terms are IRIs (<...> or bare http...), prefixed names (kkid:almaty), 'a' for
    rdf:type, or literals ('"Almaty"@en', 42). Exit 0: asserted or explained;
    1: not entailed (or not explained); 2: a term cannot be read.
    """
    from kg.pipeline.explain import Explainer, TermError, parse_term, release_graphs

    config = _config(ctx)
    release = _current(config)
    report = release.report
    prefixes = report.prefixes
    try:
        triple = (parse_term(subject, prefixes), parse_term(predicate, prefixes),
                  parse_term(object_, prefixes))
    except TermError as e:
        raise Fail(str(e), 2) from e
    graphs = release_graphs(release.dataset, report.graphs)
    explainer = Explainer({n: graphs[n] for n in ("ontology", "data", "links")},
                          graphs["inferred"], prefixes)
    explanation = explainer.explain(triple)
    if output_format == "json":
        click.echo(json.dumps(explanation.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(explanation.to_text())
    sys.exit(0 if explanation.status in ("asserted", "inferred") else 1)


@main.command("reason")
@click.option("--stats", is_flag=True, help="Print the closure's counts per filter category.")
@click.pass_context
def reason_command(ctx: click.Context, stats: bool) -> None:
    """Compute the closure of the sources (no cache, no release) and say what it holds."""
    from rdflib.graph import ReadOnlyGraphAggregate

    from kg.pipeline.consistency import InconsistentGraph, check_consistency
    from kg.pipeline.load import load_sources
    from kg.pipeline.reason import FILTERS, closure

    config = _config(ctx)
    try:
        loaded = load_sources(config)
    except SourceError as e:
        raise Fail(str(e), 2) from e
    asserted = loaded.union()
    result = closure(asserted, config.reasoning, config.reasoner, config.reasoner_threshold)
    click.echo(f"asserted            {len(asserted):>9} triples")
    click.echo(f"engine              {result.engine} ({result.mode}), {result.seconds:.2f} s "
               f"({result.cpu_seconds:.2f} s of processor time)")
    click.echo(f"entailed, new       {result.entailed:>9} triples")
    if stats:
        for category, what in FILTERS.items():
            click.echo(f"  filtered {category:<17} {result.filtered.get(category, 0):>7}  {what}")
    click.echo(f"filtered            {result.entailed - len(result.inferred):>9} triples")
    click.echo(f"inferred (kept)     {len(result.inferred):>9} triples")
    try:
        check_consistency(ReadOnlyGraphAggregate([asserted, result.inferred]),
                          loaded.subject_files, config.root, result.engine_errors,
                          asserted.namespace_manager)
    except InconsistentGraph as e:
        raise Fail(str(e)) from e
    click.echo("consistent")


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
        raise Fail(str(e), UNUSABLE_INPUT) from e
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
