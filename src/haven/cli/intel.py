"""`haven intel ...`: threat-intelligence tools for operators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from haven.cli.common import ConfigFile, DataDir, DbUrl, err, fail, load_config, out, run
from haven.core import clock
from haven.intel import bundled, parsers, taxii
from haven.intel.export import misp_feed, stix_bundle
from haven.intel.importing import store_collection
from haven.intel.merge import Collection, data_files
from haven.linkguard.building import rebuild
from haven.store.interfaces import IntelRecord
from haven.store.stores import stores_at

app = typer.Typer(
    help="Indicators about spyware vendors and mercenary hackers: parse, import, search.",
    no_args_is_help=True,
)

Paths = Annotated[
    list[Path], typer.Argument(help="Files or folders (folders are searched).", exists=True)
]
Format = Annotated[
    str | None,
    typer.Option(
        "--type",
        help=f"Read every file as this format ({', '.join(parsers.FORMATS)}); default: detect.",
    ),
]
Rejected = Annotated[
    Path | None, typer.Option("--rejected", help="Write the rejected-lines report (JSONL) here.")
]


def _expand(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and not (path / "manifest.json").exists():
            found.extend(data_files(path))
        else:
            found.append(path)
    return found


def _collect(files: list[Path], fmt: str | None) -> Collection:
    """Parse with a progress bar; a file that cannot be read stops everything, naming it."""
    if fmt is not None and fmt not in parsers.FORMATS:
        fail(f"unknown --type {fmt!r}: use one of {', '.join(parsers.FORMATS)}", code=2)
    collection = Collection()
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("parsing", total=len(files))
        for path in files:
            try:
                for item in parsers.parse(path, fmt):
                    collection.add(item)
            except parsers.ParseError as exc:
                fail(str(exc))
            except OSError as exc:
                fail(f"{path}: {exc.strerror}")
            progress.advance(task)
    return collection


def _report(collection: Collection, rejected: Path | None) -> None:
    if rejected is None:
        return
    with rejected.open("w", encoding="utf-8") as handle:
        for r in collection.rejected:
            line = {"file": r.file, "line": r.line, "value": r.value, "reason": r.reason}
            handle.write(json.dumps(line) + "\n")


@app.command("parse")
def parse(
    paths: Paths,
    output: Annotated[
        str, typer.Option("--format", help="jsonl: one indicator per line.")
    ] = "jsonl",
    fmt: Format = None,
    rejected: Rejected = None,
) -> None:
    """Parse and normalise files without a database: one {"type","value","sources"} per
    indicator on stdout, a summary on stderr."""
    if output != "jsonl":
        fail("only --format jsonl is supported", code=2)
    files = _expand(paths)
    collection = _collect(files, fmt)
    for merged in collection.merged():
        typer.echo(json.dumps(merged.to_json(), sort_keys=True))
    _report(collection, rejected)
    err.print(
        f"{len(files)} files, {collection.sightings} sightings → {len(collection.indicators)} "
        f"indicators, {len(collection.rejected)} rejected",
        highlight=False,
    )


@app.command("import")
def import_(
    paths: Paths,
    fmt: Format = None,
    rejected: Rejected = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Import indicator files into the server's store as one transaction (everything or
    nothing); prints what was imported, merged and rejected."""
    cfg = load_config(config_file, data_dir=data_dir, db=db)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    files = _expand(paths)
    collection = _collect(files, fmt)
    _report(collection, rejected)

    async def store() -> tuple[int, int, int, int, int]:
        async with stores_at(cfg.database_url) as stores:
            note = f"import of {len(files)} file(s)"
            summary = await store_collection(stores.intel, collection, note, clock.now_ms())
            links = await rebuild(stores)
        return (
            summary.version,
            summary.new_indicators,
            summary.merged_indicators,
            summary.new_sources,
            links.version,
        )

    version, new, merged, sources, links = run(store())
    out.print(
        f"imported {new} new indicators, merged {merged} known ones ({sources} new sources), "
        f"rejected {len(collection.rejected)} lines; feed version {version}, "
        f"link list version {links}",
        highlight=False,
    )
    for r in collection.rejected[:10]:
        err.print(f"  {r.file}:{r.line}: {r.reason}", highlight=False, markup=False)
    if len(collection.rejected) > 10:
        err.print(f"  ... and {len(collection.rejected) - 10} more (see --rejected FILE)")


@app.command("search")
def search(
    value: Annotated[str, typer.Argument(help="A value or part of one (domain, URL, hash).")],
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 20,
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Find indicators and who published them (one JSON object per line)."""
    cfg = load_config(config_file, data_dir=data_dir, db=db)

    async def find() -> list[dict[str, object]]:
        async with stores_at(cfg.database_url) as stores:
            found = await stores.intel.search(value, limit)
        return [
            {
                "type": r.kind,
                "value": r.value,
                "sources": [{"publisher": s.publisher, "report": s.report} for s in r.sources],
            }
            for r in found
        ]

    for item in run(find()):
        typer.echo(json.dumps(item, ensure_ascii=False))


@app.command("feeds")
def feeds() -> None:
    """The feed bundled with Haven, where it comes from, and whether it is intact."""
    damaged = bundled.verify()
    out.print(f"bundled feed: {len(bundled.files())} files in {bundled.FEED}", highlight=False)
    out.print(f"sources and licences: {bundled.FEED / 'SOURCES.md'}", highlight=False)
    out.print("intact" if not damaged else f"[red]{len(damaged)} files differ from SHA256SUMS[/]")


@app.command("export")
def export(
    out_file: Annotated[
        Path, typer.Option("--out", help="The bundle file (stix) or the feed folder (misp).")
    ],
    output: Annotated[
        str, typer.Option("--format", help="stix (a STIX 2.1 bundle) or misp (a MISP feed).")
    ] = "stix",
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Write every active indicator, with its sources, for sharing with peers. Anything
    only TLP:RED sources vouch for is left out."""
    if output not in {"stix", "misp"}:
        fail("--format must be stix or misp", code=2)
    cfg = load_config(config_file, data_dir=data_dir, db=db)

    async def everything() -> list[IntelRecord]:
        async with stores_at(cfg.database_url) as stores:
            return await stores.intel.active()

    found = run(everything())
    try:
        if output == "stix":
            out_file.write_text(json.dumps(stix_bundle(found), indent=1), encoding="utf-8")
        else:
            out_file.mkdir(parents=True, exist_ok=True)
            for name, document in misp_feed(found).items():
                (out_file / name).write_text(json.dumps(document, indent=1), encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out_file}: {exc.strerror}")
    err.print(f"exported {len(found)} indicators to {out_file}", highlight=False)


@app.command("pull")
def pull(
    api_root: Annotated[
        str, typer.Argument(help="The TAXII API root URL, e.g. https://peer/taxii2/api/")
    ],
    collection: Annotated[str, typer.Option("--collection", help="The collection id.")],
    user: Annotated[str | None, typer.Option("--user", help="Your peer name there.")] = None,
    password_file: Annotated[
        Path | None, typer.Option("--password-file", help="File holding your token there.")
    ] = None,
    added_after: Annotated[
        str | None, typer.Option("--added-after", help="Only what was added after this time.")
    ] = None,
    data_dir: DataDir = None,
    db: DbUrl = None,
    config_file: ConfigFile = None,
) -> None:
    """Import a peer's TAXII 2.1 collection (one transaction), keeping who published what."""
    cfg = load_config(config_file, data_dir=data_dir, db=db)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    password = None
    if password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            fail(f"cannot read {password_file}: {exc.strerror}")

    async def fetch_and_store() -> tuple[int, int, int]:
        try:
            items = await taxii.pull(api_root, collection, user, password, added_after)
        except taxii.TaxiiError as exc:
            fail(str(exc))
        collected = Collection()
        for item in items:
            collected.add(item)
        async with stores_at(cfg.database_url) as stores:
            note = f"TAXII pull from {api_root} collection {collection}"
            summary = await store_collection(stores.intel, collected, note, clock.now_ms())
            await rebuild(stores)
        return summary.new_indicators, summary.merged_indicators, len(collected.rejected)

    new, merged, rejected = run(fetch_and_store())
    out.print(
        f"pulled: {new} new indicators, {merged} merged, {rejected} rejected", highlight=False
    )
