"""HTML responses of the site: the page language, security headers, errors, the site icon.

Every page extends ``ld/base.html`` (navigation, search, language switch). A reader's
choice of language (``?lang=``) is kept in the ``lang`` cookie, so that the links of the
site need not carry it; without a choice, Accept-Language decides.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    render_template,
    request,
    send_from_directory,
)
from werkzeug.exceptions import NotFound

from kg import formats
from kg.formats import Format
from kg.sparql.negotiate import choose
from kg.web.messages import translate
from kg.web.state import state
from kg.web.terms import LANGUAGE_COOKIE, LANGUAGE_NAMES, LANGUAGES, choose_language, term_html

#: the media types of pages, for content negotiation beside the RDF formats of the registry
HTML = Format("html", "text/html", "HTML", "page", "html", ("application/xhtml+xml",))
JSON = Format("json", "application/json", "JSON", "page", "json")
TEXT = Format("text", "text/plain", "text", "page", "txt")

#: pages whose words are translated (see kg.web.messages); the others are in English
TRANSLATED = {"entity.html", "search.html", "browse.html", "not_found.html"}

#: pages load only their own style sheet and scripts; inline SVG needs no exception
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                           "script-src 'self'; object-src 'none'; base-uri 'none'; "
                           "frame-ancestors 'none'; form-action 'self'")

#: a chosen language is remembered for a year
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600

blueprint = Blueprint("site", __name__)
blueprint.add_app_template_global(term_html, "term")


def secure(response: Response) -> Response:
    """The security headers of an HTML response; a view that needs another policy (the
    reconciliation preview, framed by OpenRefine) sets its own, which is kept."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def language_switch() -> list[tuple[str, str, str]]:
    """(code, name, link to this same page in that language) of every page language."""
    path = quote(request.path)
    args = request.args.to_dict()
    return [(code, LANGUAGE_NAMES[code], f"{path}?{urlencode({**args, 'lang': code})}")
            for code in LANGUAGES]


def site_context(template: str = "") -> dict[str, object]:
    """What ``ld/base.html`` needs: the language, its switch, the words and the release."""
    language = choose_language(request)
    ui_language = language if template in TRANSLATED else "en"

    def words(text: str) -> str:
        return translate(text, ui_language)

    return {"language": language, "languages": language_switch(),
            "ui_language": ui_language, "t": words,
            "release": state().served.version_id}


def page(template: str, status: int = 200, **context: object) -> Response:
    """Render one of the ``ld/`` templates with the language switch, as a secured response."""
    site = site_context(template)
    body = render_template(f"ld/{template}", **{**site, **context})
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Language"] = str(site["ui_language"])
    response.vary.update(("Accept-Language", "Cookie"))
    return secure(response)


def not_found(message: str, query: str = "") -> Response:
    """A 404 page that says what was not found and offers a search."""
    return page("not_found.html", status=404, message=message, query=query)


def not_acceptable(offered: list[Format]) -> Response:
    """406, naming the media types on offer."""
    names = ", ".join(f.media_type for f in offered)
    return Response(f"None of the media types in your Accept header is available here; "
                    f"this resource is offered as {names}.\n", status=406, mimetype="text/plain")


def prefers_page() -> bool:
    """Whether the client asks for HTML before any SPARQL result or RDF format, as browsers
    do (``text/html,…,application/xml;q=0.9,*/*;q=0.8``); on a tie the data wins."""
    data = formats.for_kind("results", "rdf", "dataset")
    return choose(request.headers.get("Accept"), [*data, HTML]) is HTML


@blueprint.app_errorhandler(NotFound)
def _no_such_path(_error: NotFound) -> Response:
    """Any path the site does not have: the not-found page for browsers, a line for programs."""
    if choose(request.headers.get("Accept"), [HTML, TEXT]) is not HTML:
        return Response(f"there is nothing at {request.path} on this server; "
                        "the home page / links to everything\n", status=404,
                        mimetype="text/plain")
    last = request.path.rstrip("/").rsplit("/", 1)[-1]
    return not_found(f"There is no page at {request.path} on this site.", last)


@blueprint.after_app_request
def _remember_language(response: Response) -> Response:
    """A page asked for with ``?lang=`` sets the ``lang`` cookie, so the next pages keep it."""
    asked = request.args.get("lang", "")
    if (asked in LANGUAGES and response.mimetype == "text/html"
            and request.cookies.get(LANGUAGE_COOKIE) != asked):
        response.set_cookie(LANGUAGE_COOKIE, asked, max_age=LANGUAGE_COOKIE_SECONDS,
                            samesite="Lax", httponly=True)
    return response


@blueprint.get("/favicon.ico")
def favicon() -> Response:
    """The site icon where browsers look for it without being told."""
    return send_from_directory(str(current_app.static_folder), "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)
