"""HTML responses of the Linked Data pages: the page language, security headers, errors."""

from __future__ import annotations

from flask import Response, render_template, request, url_for

from kg.formats import Format
from kg.web.messages import translate
from kg.web.state import state
from kg.web.terms import LANGUAGE_NAMES, LANGUAGES, choose_language

#: the media types of pages, for content negotiation beside the RDF formats of the registry
HTML = Format("html", "text/html", "HTML", "page", "html", ("application/xhtml+xml",))
JSON = Format("json", "application/json", "JSON", "page", "json")

#: pages whose words are translated (see kg.web.messages); the others are in English
TRANSLATED = {"entity.html", "search.html", "browse.html", "not_found.html"}

#: pages load only their own style sheet and scripts; inline SVG needs no exception
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                           "script-src 'self'; object-src 'none'; base-uri 'none'; "
                           "frame-ancestors 'none'; form-action 'self'")


def secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def page(template: str, status: int = 200, **context: object) -> Response:
    """Render one of the ``ld/`` templates with the language switch, as a secured response."""
    language = choose_language(request)
    switch = [(code, LANGUAGE_NAMES[code], url_for(request.endpoint or "home.home",
                                                   **{**(request.view_args or {}),
                                                      **request.args.to_dict(), "lang": code}))
              for code in LANGUAGES]
    ui_language = language if template in TRANSLATED else "en"
    body = render_template(f"ld/{template}", language=language, languages=switch,
                           ui_language=ui_language,
                           t=lambda text: translate(text, ui_language),
                           release=state().served.version_id, **context)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Language"] = ui_language
    response.vary.add("Accept-Language")
    return secure(response)


def not_found(message: str, query: str = "") -> Response:
    """A 404 page that says what was not found and offers a search."""
    return page("not_found.html", status=404, message=message, query=query)


def not_acceptable(offered: list[Format]) -> Response:
    """406, naming the media types on offer."""
    names = ", ".join(f.media_type for f in offered)
    return Response(f"None of the media types in your Accept header is available here; "
                    f"this resource is offered as {names}.\n", status=406, mimetype="text/plain")
