/* The SPARQL query editor: highlighting, prefix completion, examples, running, results.
   Plain JavaScript, no dependencies, nothing loaded from the network. */
(function () {
  "use strict";

  const KEYWORDS = new Set(("SELECT ASK CONSTRUCT DESCRIBE WHERE PREFIX BASE FROM NAMED GRAPH " +
    "OPTIONAL UNION MINUS FILTER BIND VALUES SERVICE SILENT DISTINCT REDUCED AS ORDER BY ASC " +
    "DESC LIMIT OFFSET GROUP HAVING NOT EXISTS IN A COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT " +
    "SEPARATOR STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND " +
    "CONCAT STRLEN UCASE LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER " +
    "YEAR MONTH DAY HOURS MINUTES SECONDS NOW UUID STRUUID MD5 SHA1 SHA256 COALESCE IF " +
    "STRLANG STRDT SAMETERM ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX SUBSTR REPLACE " +
    "TRUE FALSE INSERT DELETE DATA WITH USING DEFAULT ALL CLEAR DROP CREATE LOAD INTO").split(" "));
  const TOKEN = new RegExp([
    "(#[^\\n]*)",                                            // 1 comment
    "('''[\\s\\S]*?'''|\"\"\"[\\s\\S]*?\"\"\"|'(?:[^'\\\\\\n]|\\\\.)*'|\"(?:[^\"\\\\\\n]|\\\\.)*\")", // 2 string
    "(<[^<>\\s\"{}|^`\\\\]*>)",                             // 3 IRI
    "([?$][\\w\\u00b7-\\uffff]+)",                           // 4 variable
    "([A-Za-z][\\w.-]*)?:([\\w.-]*)",                        // 5, 6 prefixed name
    "(\\b\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?\\b)",            // 7 number
    "([A-Za-z_]+)",                                          // 8 word
  ].join("|"), "g");

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function highlight(text) {
    let html = "";
    let last = 0;
    TOKEN.lastIndex = 0;
    let m;
    while ((m = TOKEN.exec(text)) !== null) {
      if (m[0] === "") { TOKEN.lastIndex++; continue; }
      html += escapeHtml(text.slice(last, m.index));
      let cls = null;
      if (m[1] !== undefined) cls = "qe-com";
      else if (m[2] !== undefined) cls = "qe-str";
      else if (m[3] !== undefined) cls = "qe-iri";
      else if (m[4] !== undefined) cls = "qe-var";
      else if (m[6] !== undefined) cls = "qe-pname";
      else if (m[7] !== undefined) cls = "qe-num";
      else if (m[8] !== undefined && KEYWORDS.has(m[8].toUpperCase())) cls = "qe-kw";
      const piece = escapeHtml(m[0]);
      html += cls ? '<span class="' + cls + '">' + piece + "</span>" : piece;
      last = m.index + m[0].length;
    }
    return html + escapeHtml(text.slice(last)) + "\n";
  }

  function queryForm(text) {
    const bare = text.replace(TOKEN, (all, com, str, iri) =>
      (com !== undefined || str !== undefined || iri !== undefined) ? " " : all);
    const m = /\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b/i.exec(bare);
    return m ? m[1].toUpperCase() : "SELECT";
  }

  function setup(root) {
    const endpoint = root.dataset.endpoint;
    const base = root.dataset.base;
    const prefixes = JSON.parse(root.querySelector(".qe-prefixes").textContent);
    const input = root.querySelector(".qe-input");
    const code = root.querySelector(".qe-highlight code");
    const pre = root.querySelector(".qe-highlight");
    const menu = root.querySelector(".qe-completions");
    const status = root.querySelector(".qe-status");
    const errorBox = root.querySelector(".qe-error");
    const results = root.querySelector(".qe-results");
    const inference = root.querySelector(".qe-inference");
    let choices = [];
    let selected = 0;

    function refresh() {
      code.innerHTML = highlight(input.value);
      pre.scrollTop = input.scrollTop;
      pre.scrollLeft = input.scrollLeft;
      const kind = ["CONSTRUCT", "DESCRIBE"].includes(queryForm(input.value)) ? "rdf" : "results";
      root.querySelectorAll(".qe-downloads").forEach((el) => { el.hidden = el.dataset.kind !== kind; });
    }

    // ---- prefix completion ----
    function currentWord() {
      const upto = input.value.slice(0, input.selectionStart);
      const line = upto.slice(upto.lastIndexOf("\n") + 1).replace(/<[^<>]*>/g, "");
      if (/#|"|'/.test(line)) return null;  // in a comment or a string
      const m = /(^|[^\w?$:<#])([A-Za-z][\w-]*)$/.exec(upto);
      return m ? m[2] : null;
    }
    function closeMenu() { menu.hidden = true; choices = []; }
    function showMenu() {
      const word = currentWord();
      choices = word ? Object.keys(prefixes).filter((p) => p.startsWith(word) && p !== word) : [];
      if (word && prefixes[word] !== undefined) choices.unshift(word);
      if (!choices.length) { closeMenu(); return; }
      selected = 0;
      menu.innerHTML = "";
      choices.forEach((p, i) => {
        const li = document.createElement("li");
        li.setAttribute("role", "option");
        li.dataset.prefix = p;
        li.textContent = p + ": <" + prefixes[p] + ">";
        li.setAttribute("aria-selected", i === 0 ? "true" : "false");
        li.addEventListener("mousedown", (e) => { e.preventDefault(); accept(p); });
        menu.appendChild(li);
      });
      const lines = input.value.slice(0, input.selectionStart).split("\n");
      menu.style.top = (lines.length * 20.3 + 8 - input.scrollTop) + "px";
      menu.style.left = (Math.min(lines[lines.length - 1].length, 60) * 8.4 + 8) + "px";
      menu.hidden = false;
    }
    function accept(prefix) {
      const word = currentWord() || "";
      const start = input.selectionStart - word.length;
      let text = input.value.slice(0, start) + prefix + ":" + input.value.slice(input.selectionStart);
      let caret = start + prefix.length + 1;
      const declared = new RegExp("PREFIX\\s+" + prefix + ":", "i");
      if (!declared.test(text)) {
        const line = "PREFIX " + prefix + ": <" + prefixes[prefix] + ">\n";
        text = line + text;
        caret += line.length;
      }
      input.value = text;
      input.setSelectionRange(caret, caret);
      closeMenu();
      refresh();
    }
    input.addEventListener("input", () => { refresh(); showMenu(); });
    input.addEventListener("scroll", refresh);
    input.addEventListener("blur", () => setTimeout(closeMenu, 100));
    input.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); run(); return; }
      if (menu.hidden) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        selected = (selected + (e.key === "ArrowDown" ? 1 : choices.length - 1)) % choices.length;
        menu.querySelectorAll("li").forEach((li, i) =>
          li.setAttribute("aria-selected", i === selected ? "true" : "false"));
      } else if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        accept(choices[selected]);
      } else if (e.key === "Escape") {
        closeMenu();
      }
    });

    // ---- examples and downloads ----
    root.querySelectorAll(".qe-example").forEach((button) => button.addEventListener("click", () => {
      input.value = button.dataset.query;
      refresh();
      run();
    }));
    function params(extra) {
      const p = new URLSearchParams({ query: input.value });
      if (!inference.checked) p.set("inference", "false");
      Object.entries(extra || {}).forEach(([k, v]) => p.set(k, v));
      return p;
    }
    root.querySelectorAll(".qe-download").forEach((a) => a.addEventListener("click", () => {
      a.href = endpoint + "?" + params({ format: a.dataset.format }).toString();
    }));

    // ---- running and showing results ----
    function pageLink(iri) {
      return iri.startsWith(base + "id/") ? "/page/" + iri.slice(base.length + 3) : iri;
    }
    function compact(iri) {
      let best = null;
      Object.entries(prefixes).forEach(([p, ns]) => {
        if (ns && iri.startsWith(ns) && /^[\w-]*$/.test(iri.slice(ns.length)) &&
            (!best || ns.length > prefixes[best].length)) best = p;
      });
      return best === null ? iri : best + ":" + iri.slice(prefixes[best].length);
    }
    function termCell(term) {
      const td = document.createElement("td");
      if (!term) return td;
      if (term.type === "uri") {
        const a = document.createElement("a");
        a.href = pageLink(term.value);
        a.title = term.value;
        a.textContent = compact(term.value);
        td.appendChild(a);
      } else if (term.type === "bnode") {
        td.textContent = "_:" + term.value;
      } else {
        td.textContent = term.value;
        const tag = term["xml:lang"] ? "@" + term["xml:lang"] : (term.datatype ? "^^" + term.datatype : "");
        if (tag) {
          const meta = document.createElement("span");
          meta.className = "qe-meta";
          meta.textContent = " " + tag;
          td.appendChild(meta);
        }
      }
      return td;
    }
    function table(vars, rows) {
      const t = document.createElement("table");
      const head = t.createTHead().insertRow();
      vars.forEach((v) => { const th = document.createElement("th"); th.textContent = v; head.appendChild(th); });
      const body = t.createTBody();
      rows.forEach((row) => {
        const tr = body.insertRow();
        vars.forEach((v) => tr.appendChild(termCell(row[v])));
      });
      return t;
    }
    const NT_TERM = /<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([\w-]+)|\^\^<([^>]*)>)?/g;
    function unescapeNt(s) { return JSON.parse('"' + s.replace(/\\U([0-9A-Fa-f]{8})/g, (m, h) =>
      String.fromCodePoint(parseInt(h, 16))) + '"'); }
    function triples(text) {
      return text.split("\n").filter((l) => l.trim()).map((line) => {
        const terms = [];
        let m;
        NT_TERM.lastIndex = 0;
        while ((m = NT_TERM.exec(line)) !== null && terms.length < 3) {
          if (m[1] !== undefined) terms.push({ type: "uri", value: m[1] });
          else if (m[2] !== undefined) terms.push({ type: "bnode", value: m[2] });
          else terms.push({ type: "literal", value: unescapeNt(m[3]), "xml:lang": m[4], datatype: m[5] });
        }
        return { subject: terms[0], predicate: terms[1], object: terms[2] };
      });
    }
    async function run() {
      const graph = ["CONSTRUCT", "DESCRIBE"].includes(queryForm(input.value));
      errorBox.hidden = true;
      results.innerHTML = "";
      status.textContent = "Running…";
      const started = performance.now();
      let response;
      try {
        response = await fetch(endpoint, {
          method: "POST",
          headers: { Accept: graph ? "application/n-triples" : "application/sparql-results+json" },
          body: params(),
        });
      } catch (err) {
        status.textContent = "";
        errorBox.textContent = "The endpoint could not be reached: " + err;
        errorBox.hidden = false;
        return;
      }
      const text = await response.text();
      const ms = Math.round(performance.now() - started);
      if (!response.ok) {
        status.textContent = "";
        errorBox.textContent = "Error " + response.status + " (" + response.statusText + ")\n\n" + text;
        errorBox.hidden = false;
        return;
      }
      const truncated = response.headers.get("KG-Result-Truncated");
      const note = truncated ? " (cut at the row limit: " + truncated + ")" : "";
      if (graph) {
        const rows = triples(text);
        status.textContent = rows.length + " triple(s) in " + ms + " ms" + note;
        results.appendChild(table(["subject", "predicate", "object"], rows));
        return;
      }
      const json = JSON.parse(text);
      if (typeof json.boolean === "boolean") {
        status.textContent = "ASK answered in " + ms + " ms";
        const p = document.createElement("p");
        p.className = "qe-boolean";
        p.textContent = json.boolean ? "true" : "false";
        results.appendChild(p);
        return;
      }
      const rows = json.results.bindings;
      status.textContent = rows.length + " result(s) in " + ms + " ms" + note;
      results.appendChild(table(json.head.vars, rows));
    }
    root.querySelector(".qe-run").addEventListener("click", run);
    refresh();
  }

  function init() { document.querySelectorAll(".kg-query-editor").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
