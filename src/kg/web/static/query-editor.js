/* The SPARQL query editor: highlighting, prefix completion, line numbers with the parser's
   errors at their line, examples, a history and a draft kept in this browser, permalinks,
   and the results as a paged, sortable table or a bar or line chart, fetched up to a row
   limit with "more". Plain JavaScript, no dependencies, nothing loaded from the network
   (docs/decisions/0009-query-ui.md says why this and not YASGUI). */
(function () {
  "use strict";

  const PAGE_SIZE = 50;
  const HISTORY_KEY = "kazkor.sparql.history";
  const HISTORY_MAX = 30;
  const DRAFT_KEY = "kazkor.sparql.draft";
  const LIMIT_KEY = "kazkor.sparql.limit";
  /* gunicorn refuses request lines over 4094 bytes: a longer permalink would not reload */
  const LONGEST_LINK = 4000;
  const BAR_ROWS = 50;
  const LINE_POINTS = 1000;
  const MAX_SERIES = 6;
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const NUMERIC = new Set(["integer", "decimal", "float", "double", "int", "long", "short",
    "byte", "nonNegativeInteger", "nonPositiveInteger", "negativeInteger", "positiveInteger",
    "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte"].map((t) => XSD + t));
  const TEMPORAL = new Set(["gYear", "date", "dateTime"].map((t) => XSD + t));
  const SVG = "http://www.w3.org/2000/svg";
  const numbers = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

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

  // ---- the query text ------------------------------------------------------------------

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

  /* The text with comments, strings and IRIs blanked out (same length, same lines). */
  function skeleton(text) {
    return text.replace(TOKEN, (all, com, str, iri) =>
      (com !== undefined || str !== undefined || iri !== undefined) ? all.replace(/[^\n]/g, " ") : all);
  }

  function queryForm(text) {
    const m = /\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b/i.exec(skeleton(text));
    return m ? m[1].toUpperCase() : "SELECT";
  }

  /* The query with "LIMIT limit OFFSET offset" after its outermost group (before a trailing
     VALUES block), or null when it has its own LIMIT or OFFSET or its shape is unclear. */
  function limited(text, limit, offset) {
    const bare = skeleton(text);
    const groups = [];
    let depth = 0;
    let start = 0;
    for (let i = 0; i < bare.length; i++) {
      if (bare[i] === "{") {
        if (depth === 0) start = i;
        depth++;
      } else if (bare[i] === "}") {
        depth--;
        if (depth < 0) return null;
        if (depth === 0) groups.push([start, i + 1]);
      }
    }
    if (depth !== 0 || !groups.length) return null;
    let end = bare.length;
    let where = groups[groups.length - 1];
    const values = /\bVALUES\s*(?:[?$][\w\u00b7-\uffff]+|\([^()]*\))\s*$/i.exec(bare.slice(0, where[0]));
    if (values) {
      if (groups.length < 2) return null;
      end = values.index;
      where = groups[groups.length - 2];
    }
    if (/\b(LIMIT|OFFSET)\b/i.test(bare.slice(where[1], end))) return null;
    const clause = "\nLIMIT " + limit + (offset ? " OFFSET " + offset : "") + "\n";
    return text.slice(0, end) + clause + text.slice(end);
  }

  /* The line and column of a parser message: "line 3, column 7: ..." or "... at 3:7: ...". */
  function errorPosition(message) {
    const m = /\bline (\d+), column (\d+)/i.exec(message) || /\bat (\d+):(\d+)\b/.exec(message);
    return m ? { line: Number(m[1]), column: Number(m[2]) } : null;
  }

  /* What a query is about, for the history: its "# title:" or its first line of substance. */
  function summary(text) {
    const title = /^#\s*title:\s*(.+)$/im.exec(text);
    if (title) return title[1].trim();
    const line = text.split("\n").map((l) => l.trim())
      .find((l) => l && !/^(PREFIX|BASE)\b/i.test(l) && !l.startsWith("#"));
    const shown = line || text.trim();
    return shown.length > 90 ? shown.slice(0, 89) + "…" : shown;
  }

  // ---- what this browser keeps ----------------------------------------------------------

  const kept = {
    get(key, fallback) {
      try {
        const value = window.localStorage.getItem(key);
        return value === null ? fallback : JSON.parse(value);
      } catch (err) {
        return fallback;  // storage off (private mode, policy): nothing is kept
      }
    },
    set(key, value) {
      try {
        window.localStorage.setItem(key, JSON.stringify(value));
      } catch (err) {
        // full or off: the history and the draft are a convenience, the page works without
      }
    },
  };

  // ---- terms -----------------------------------------------------------------------------

  function isNumeric(term) {
    return Boolean(term) && term.type !== "uri" && term.type !== "bnode" &&
      NUMERIC.has(term.datatype) && Number.isFinite(Number(term.value));
  }

  function isTemporal(term) {
    return Boolean(term) && TEMPORAL.has(term.datatype) && !Number.isNaN(Date.parse(term.value));
  }

  function compareTerms(a, b) {
    if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
    const na = isNumeric(a);
    const nb = isNumeric(b);
    if (na && nb) return Number(a.value) - Number(b.value);
    if (na !== nb) return na ? -1 : 1;
    return collator.compare(a.value, b.value);
  }

  // ---- charts (SVG built with the DOM: no markup from data, no inline style) --------------

  function svg(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    Object.entries(attributes || {}).forEach(([k, v]) => node.setAttribute(k, String(v)));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceTicks(lo, hi) {
    if (hi <= lo) hi = lo + 1;
    const raw = (hi - lo) / 5;
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
    const ticks = [Math.floor(lo / step) * step];
    while (ticks[ticks.length - 1] < hi) ticks.push(Math.round(ticks[ticks.length - 1] / step + 1) * step);
    return ticks;
  }

  /* Which columns a chart can draw: numeric series against a label column (or row numbers). */
  function chartPlan(vars, rows) {
    const numeric = vars.filter((v) => rows.some((r) => r[v]) && rows.every((r) => !r[v] || isNumeric(r[v])));
    if (!numeric.length || !rows.length) return null;
    let label = vars.find((v) => !numeric.includes(v));
    if (label === undefined && numeric.length > 1) label = numeric[0];
    const series = numeric.filter((v) => v !== label).slice(0, MAX_SERIES);
    return series.length ? { label: label, series: series } : null;
  }

  function legend(series) {
    const list = document.createElement("ul");
    list.className = "qe-legend";
    series.forEach((name, i) => {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "qe-swatch qe-c" + i;
      item.append(swatch, "?" + name);
      list.appendChild(item);
    });
    return list;
  }

  function barChart(plan, rows, width, text) {
    const shown = rows.slice(0, BAR_ROWS);
    const labels = shown.map((r, i) => plan.label ? text(r[plan.label]) : String(i + 1));
    const values = shown.flatMap((r) => plan.series.map((v) => (r[v] ? Number(r[v].value) : 0)));
    const ticks = niceTicks(Math.min(0, ...values), Math.max(0, ...values));
    const lo = ticks[0];
    const hi = ticks[ticks.length - 1];
    const labelWidth = Math.min(Math.round(width * 0.4), Math.max(...labels.map((l) => l.length), 4) * 7 + 16);
    const fits = Math.max(Math.floor((labelWidth - 10) / 7), 4);  /* characters of 12 px text */
    const right = 56;
    const plotWidth = Math.max(width - labelWidth - right, 80);
    const bar = plan.series.length > 1 ? 12 : 18;
    const group = bar * plan.series.length + 8;
    const top = 8;
    const bottom = top + group * shown.length;
    const x = (v) => labelWidth + (v - lo) / (hi - lo) * plotWidth;
    const chart = svg("svg", { width: width, height: bottom + 28, viewBox: "0 0 " + width + " " + (bottom + 28),
      role: "img", class: "qe-bar-chart", "aria-label": "Bar chart of " + plan.series.map((v) => "?" + v).join(", ") });
    ticks.forEach((t) => {
      chart.append(svg("line", { x1: x(t), x2: x(t), y1: top, y2: bottom, class: "qe-grid" }),
        svg("text", { x: x(t), y: bottom + 16, "text-anchor": "middle", class: "qe-tick" }, numbers.format(t)));
    });
    shown.forEach((row, i) => {
      const y0 = top + i * group;
      const label = labels[i].length > fits ? labels[i].slice(0, fits - 1) + "…" : labels[i];
      const name = svg("text", { x: labelWidth - 6, y: y0 + group / 2 + 4, "text-anchor": "end", class: "qe-label" }, label);
      name.appendChild(svg("title", {}, labels[i]));
      chart.appendChild(name);
      plan.series.forEach((v, s) => {
        if (!row[v]) return;
        const value = Number(row[v].value);
        const y = y0 + 4 + s * bar;
        const rect = svg("rect", { x: Math.min(x(0), x(value)), y: y, width: Math.max(Math.abs(x(value) - x(0)), 1),
          height: bar - 2, class: "qe-c" + s });
        rect.appendChild(svg("title", {}, "?" + v + ", " + labels[i] + ": " + numbers.format(value)));
        chart.append(rect, svg("text", { x: Math.max(x(value), x(0)) + 4, y: y + bar - 4, class: "qe-value" },
          numbers.format(value)));
      });
    });
    return chart;
  }

  function lineChart(plan, rows, width, text) {
    const labelTerm = (r) => (plan.label ? r[plan.label] : null);
    const positional = plan.label !== undefined &&
      rows.every((r) => isNumeric(labelTerm(r)) || isTemporal(labelTerm(r)));
    const position = (r, i) => {
      if (!positional) return i;
      const t = labelTerm(r);
      return isNumeric(t) ? Number(t.value) : (/^-?\d{4}$/.test(t.value) ? Number(t.value) : Date.parse(t.value));
    };
    let points = rows.slice(0, LINE_POINTS).map((r, i) => ({ row: r, x: position(r, i),
      label: plan.label ? text(r[plan.label]) : String(i + 1) }));
    if (positional) points = points.slice().sort((a, b) => a.x - b.x);
    const values = points.flatMap((p) => plan.series.filter((v) => p.row[v]).map((v) => Number(p.row[v].value)));
    const ticks = niceTicks(Math.min(0, ...values), Math.max(0, ...values));
    const lo = ticks[0];
    const hi = ticks[ticks.length - 1];
    const left = 64;
    const right = 24;
    const top = 12;
    const plotHeight = 280;
    const height = top + plotHeight + 40;
    const xs = points.map((p) => p.x);
    const xMin = Math.min(...xs);
    const xSpan = (Math.max(...xs) - xMin) || 1;
    const plotWidth = Math.max(width - left - right, 80);
    const px = (xv) => (points.length > 1 ? left + (xv - xMin) / xSpan * plotWidth : left + plotWidth / 2);
    const py = (v) => top + plotHeight - (v - lo) / (hi - lo) * plotHeight;
    const chart = svg("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height,
      role: "img", class: "qe-line-chart", "aria-label": "Line chart of " + plan.series.map((v) => "?" + v).join(", ") });
    ticks.forEach((t) => {
      chart.append(svg("line", { x1: left, x2: left + plotWidth, y1: py(t), y2: py(t), class: "qe-grid" }),
        svg("text", { x: left - 6, y: py(t) + 4, "text-anchor": "end", class: "qe-tick" }, numbers.format(t)));
    });
    const every = Math.max(1, Math.ceil(points.length / Math.max(2, Math.floor(plotWidth / 70))));
    points.forEach((p, i) => {
      if (i % every === 0) {
        chart.appendChild(svg("text", { x: px(p.x), y: top + plotHeight + 18, "text-anchor": "middle",
          class: "qe-tick" }, p.label.length > 12 ? p.label.slice(0, 11) + "…" : p.label));
      }
    });
    plan.series.forEach((v, s) => {
      const mine = points.filter((p) => p.row[v]);
      chart.appendChild(svg("polyline", { points: mine.map((p) => px(p.x) + "," + py(Number(p.row[v].value))).join(" "),
        class: "qe-line qe-c" + s }));
      if (mine.length <= 200) {
        mine.forEach((p) => {
          const dot = svg("circle", { cx: px(p.x), cy: py(Number(p.row[v].value)), r: 3.5, class: "qe-c" + s });
          dot.appendChild(svg("title", {}, "?" + v + ", " + p.label + ": " + numbers.format(Number(p.row[v].value))));
          chart.appendChild(dot);
        });
      }
    });
    return chart;
  }

  // ---- the editor on a page -------------------------------------------------------------

  function setup(root) {
    const endpoint = root.dataset.endpoint;
    const base = root.dataset.base;
    const pageAddress = root.dataset.page;
    const prefixes = JSON.parse(root.querySelector(".qe-prefixes").textContent);
    const editor = root.querySelector(".qe-editor");
    const input = root.querySelector(".qe-input");
    const code = root.querySelector(".qe-highlight code");
    const pre = root.querySelector(".qe-highlight");
    const gutter = root.querySelector(".qe-gutter");
    const band = root.querySelector(".qe-error-band");
    const menu = root.querySelector(".qe-completions");
    const status = root.querySelector(".qe-status");
    const errorBox = root.querySelector(".qe-error");
    const results = root.querySelector(".qe-results");
    const inference = root.querySelector(".qe-inference");
    const limitChoice = root.querySelector(".qe-limit");
    const permalinkLink = root.querySelector(".qe-permalink");
    const historyBox = root.querySelector(".qe-history");
    let choices = [];
    let selected = 0;
    let errorLine = 0;
    let result = null;   // what the last run answered, and how it is shown
    let draftTimer = 0;

    // ---- text, highlighting, line numbers, the error mark ----
    function metrics() {
      const style = window.getComputedStyle(input);
      const probe = document.createElement("span");
      probe.textContent = "MMMMMMMMMM";
      code.appendChild(probe);
      const charWidth = probe.getBoundingClientRect().width / 10;
      probe.remove();
      return { line: parseFloat(style.lineHeight), top: parseFloat(style.paddingTop),
        left: parseFloat(style.paddingLeft), charWidth: charWidth || 8.4 };
    }
    function refresh() {
      code.innerHTML = highlight(input.value);
      const lines = input.value.split("\n").length;
      if (gutter.childElementCount !== lines || gutter.dataset.errorLine !== String(errorLine)) {
        gutter.textContent = "";
        gutter.dataset.errorLine = String(errorLine);
        for (let i = 1; i <= lines; i++) {
          const number = document.createElement("div");
          number.textContent = String(i);
          if (i === errorLine) {
            number.className = "qe-error-line";
            number.title = "the error is on this line";
          }
          gutter.appendChild(number);
        }
      }
      syncScroll();
      const kind = ["CONSTRUCT", "DESCRIBE"].includes(queryForm(input.value)) ? "rdf" : "results";
      root.querySelectorAll(".qe-downloads").forEach((el) => { el.hidden = el.dataset.kind !== kind; });
      permalinkLink.href = permalink();
    }
    function syncScroll() {
      pre.scrollTop = input.scrollTop;
      pre.scrollLeft = input.scrollLeft;
      gutter.scrollTop = input.scrollTop;
      if (errorLine) {
        const m = metrics();
        band.style.top = (m.top + (errorLine - 1) * m.line - input.scrollTop) + "px";
        band.style.height = m.line + "px";
      }
    }
    function markError(position) {
      const lines = input.value.split("\n");
      errorLine = Math.min(Math.max(position.line, 1), lines.length);
      band.hidden = false;
      let offset = 0;
      for (let i = 0; i < errorLine - 1; i++) offset += lines[i].length + 1;
      offset += Math.min(Math.max(position.column - 1, 0), lines[errorLine - 1].length);
      input.focus();
      input.setSelectionRange(offset, offset);
      const m = metrics();
      const y = m.top + (errorLine - 1) * m.line;
      if (y < input.scrollTop || y + m.line > input.scrollTop + input.clientHeight) {
        input.scrollTop = Math.max(0, y - input.clientHeight / 2);
      }
      refresh();
    }
    function clearError() {
      errorBox.hidden = true;
      errorBox.textContent = "";
      if (errorLine) {
        errorLine = 0;
        band.hidden = true;
        refresh();
      }
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
      menu.textContent = "";
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
      const m = metrics();
      menu.style.top = (m.top + lines.length * m.line - input.scrollTop) + "px";
      menu.style.left = (input.offsetLeft + m.left +
        Math.min(lines[lines.length - 1].length, 60) * m.charWidth) + "px";
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
      edited();
    }
    function edited() {
      clearError();
      refresh();
      window.clearTimeout(draftTimer);
      draftTimer = window.setTimeout(keepDraft, 300);
    }
    input.addEventListener("input", () => { edited(); showMenu(); });
    input.addEventListener("scroll", syncScroll);
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

    // ---- the draft, the permalink, the history ----
    function params(text, withInference, extra) {
      const p = new URLSearchParams({ query: text });
      if (!withInference) p.set("inference", "false");
      Object.entries(extra || {}).forEach(([k, v]) => p.set(k, v));
      return p;
    }
    function permalink() {
      return pageAddress + "?" + params(input.value, inference.checked).toString();
    }
    function keepDraft() {
      kept.set(DRAFT_KEY, input.value);
      if (root.hasAttribute("data-permalink")) followAddress();
    }
    function followAddress() {
      const address = permalink();
      if (address.length <= LONGEST_LINK && address !== location.pathname + location.search) {
        window.history.replaceState(null, "", address);
      }
    }
    function remember(text, rows) {
      const entries = kept.get(HISTORY_KEY, []).filter((e) => e && e.query !== text);
      entries.unshift({ query: text, inference: inference.checked, at: new Date().toISOString(), rows: rows });
      kept.set(HISTORY_KEY, entries.slice(0, HISTORY_MAX));
      showHistory();
    }
    function showHistory() {
      const entries = kept.get(HISTORY_KEY, []);
      const list = historyBox.querySelector(".qe-history-list");
      historyBox.hidden = false;
      historyBox.querySelector(".qe-history-empty").hidden = entries.length > 0;
      historyBox.querySelector(".qe-history-clear").hidden = entries.length === 0;
      list.textContent = "";
      entries.forEach((entry) => {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "qe-history-entry";
        button.title = entry.query;
        button.textContent = summary(entry.query);
        const when = document.createElement("small");
        when.textContent = new Date(entry.at).toLocaleString() +
          (typeof entry.rows === "number" ? " · " + numbers.format(entry.rows) + " rows" : "");
        button.append(document.createElement("br"), when);
        button.addEventListener("click", () => {
          input.value = entry.query;
          inference.checked = entry.inference !== false;
          edited();
          run();
        });
        item.appendChild(button);
        list.appendChild(item);
      });
    }
    historyBox.querySelector(".qe-history-clear").addEventListener("click", () => {
      kept.set(HISTORY_KEY, []);
      showHistory();
    });

    // ---- examples, downloads, options ----
    root.querySelectorAll(".qe-example").forEach((button) => button.addEventListener("click", () => {
      input.value = button.dataset.query;
      edited();
      run();
    }));
    root.querySelectorAll(".qe-download").forEach((a) => a.addEventListener("click", () => {
      a.href = endpoint + "?" + params(input.value, inference.checked, { format: a.dataset.format }).toString();
    }));
    inference.addEventListener("change", () => { refresh(); keepDraft(); });
    limitChoice.value = String(kept.get(LIMIT_KEY, limitChoice.value));
    if (!limitChoice.value) limitChoice.value = "1000";
    limitChoice.addEventListener("change", () => kept.set(LIMIT_KEY, limitChoice.value));

    // ---- results: terms ----
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
    function termText(term) {
      if (!term) return "";
      if (term.type === "uri") return compact(term.value);
      if (term.type === "bnode") return "_:" + term.value;
      return term.value;
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
        if (isNumeric(term)) td.className = "qe-number";
        const tag = term["xml:lang"] ? "@" + term["xml:lang"] : (term.datatype ? "^^" + compact(term.datatype) : "");
        if (tag) {
          const meta = document.createElement("span");
          meta.className = "qe-meta";
          meta.textContent = " " + tag;
          td.appendChild(meta);
        }
      }
      return td;
    }
    const NT_TERM = /<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([\w-]+)|\^\^<([^>]*)>)?/g;
    function unescapeNt(s) {
      return JSON.parse('"' + s.replace(/\\U([0-9A-Fa-f]{8})/g, (m, h) =>
        String.fromCodePoint(parseInt(h, 16))) + '"');
    }
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

    // ---- results: the views ----
    function button(label, onClick, extra) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      Object.entries(extra || {}).forEach(([k, v]) => b.setAttribute(k, v));
      b.addEventListener("click", onClick);
      return b;
    }
    function sortedRows() {
      if (!result.sortVar) return result.rows;
      const key = result.sortVar + (result.sortDescending ? " desc " : " asc ") + result.rows.length;
      if (result.sorted && result.sorted.key === key) return result.sorted.rows;
      const v = result.sortVar;
      const sign = result.sortDescending ? -1 : 1;
      result.sorted = { key: key, rows: result.rows.slice().sort((a, b) => sign * compareTerms(a[v], b[v])) };
      return result.sorted.rows;
    }
    function sortBy(v) {
      if (result.sortVar === v) result.sortDescending = !result.sortDescending;
      else { result.sortVar = v; result.sortDescending = false; }
      result.page = 0;
      show();
      const again = results.querySelector("th[data-var='" + CSS.escape(v) + "'] button");
      if (again) again.focus();
    }
    function pager(total) {
      const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
      result.page = Math.min(result.page, pages - 1);
      const nav = document.createElement("nav");
      nav.className = "qe-pager";
      nav.setAttribute("aria-label", "Result pages");
      const go = (n) => () => { result.page = n; show(); };
      const first = result.page * PAGE_SIZE + 1;
      const last = Math.min(total, (result.page + 1) * PAGE_SIZE);
      const where = document.createElement("span");
      where.className = "qe-page-info";
      where.textContent = "rows " + numbers.format(first) + "–" + numbers.format(last) + " of " +
        numbers.format(total) + " · page " + (result.page + 1) + " of " + pages;
      nav.append(
        button("«", go(0), { "aria-label": "first page", class: "qe-first" }),
        button("‹", go(result.page - 1), { "aria-label": "previous page", class: "qe-prev" }),
        where,
        button("›", go(result.page + 1), { "aria-label": "next page", class: "qe-next" }),
        button("»", go(pages - 1), { "aria-label": "last page", class: "qe-last" }));
      nav.querySelectorAll(".qe-first, .qe-prev").forEach((b) => { b.disabled = result.page === 0; });
      nav.querySelectorAll(".qe-next, .qe-last").forEach((b) => { b.disabled = result.page >= pages - 1; });
      return nav;
    }
    function table(rows) {
      const box = document.createElement("div");
      box.className = "qe-table-box";
      const t = document.createElement("table");
      const head = t.createTHead().insertRow();
      result.vars.forEach((v) => {
        const th = document.createElement("th");
        th.dataset.var = v;
        th.setAttribute("aria-sort", result.sortVar !== v ? "none" : (result.sortDescending ? "descending" : "ascending"));
        th.appendChild(button(v, () => sortBy(v), { title: "sort by ?" + v }));
        head.appendChild(th);
      });
      const body = t.createTBody();
      rows.forEach((row) => {
        const tr = body.insertRow();
        result.vars.forEach((v) => tr.appendChild(termCell(row[v])));
      });
      box.appendChild(t);
      return box;
    }
    function moreControls() {
      const box = document.createElement("p");
      box.className = "qe-more";
      box.append("The first " + numbers.format(result.rows.length) +
        " rows are loaded (row limit); the query has more. ");
      box.append(button("Load " + numbers.format(result.limit) + " more", () => more(false), { class: "qe-load-more" }),
        " ", button("Load all", () => more(true), { class: "qe-load-all" }));
      return box;
    }
    function show() {
      results.textContent = "";
      if (result.boolean !== undefined) {
        const p = document.createElement("p");
        p.className = "qe-boolean";
        p.textContent = result.boolean ? "true" : "false";
        results.appendChild(p);
        return;
      }
      const plan = chartPlan(result.vars, result.rows);
      if (!plan && result.view !== "table") result.view = "table";
      const bar = document.createElement("div");
      bar.className = "qe-toolbar";
      const views = document.createElement("div");
      views.className = "qe-views";
      views.setAttribute("role", "group");
      views.setAttribute("aria-label", "Show the results as");
      [["table", "Table"], ["bar", "Bar chart"], ["line", "Line chart"]].forEach(([view, label]) => {
        if (view !== "table" && !plan) return;
        views.appendChild(button(label, () => { result.view = view; show(); },
          { "aria-pressed": String(result.view === view), "data-view": view }));
      });
      bar.appendChild(views);
      results.appendChild(bar);
      if (!result.complete) results.appendChild(moreControls());
      const rows = sortedRows();
      if (result.view === "table") {
        results.appendChild(pager(rows.length));
        results.appendChild(table(rows.slice(result.page * PAGE_SIZE, (result.page + 1) * PAGE_SIZE)));
        return;
      }
      const figure = document.createElement("figure");
      figure.className = "qe-chart";
      if (plan.series.length > 1) figure.appendChild(legend(plan.series));
      const width = Math.max(results.clientWidth - 2, 320);
      figure.appendChild(result.view === "bar" ? barChart(plan, rows, width, termText)
        : lineChart(plan, rows, width, termText));
      const caption = document.createElement("figcaption");
      const drawn = result.view === "bar" ? Math.min(rows.length, BAR_ROWS) : Math.min(rows.length, LINE_POINTS);
      caption.textContent = (plan.label ? "?" + plan.label : "row number") + " against " +
        plan.series.map((v) => "?" + v).join(", ") + "; " +
        (drawn < rows.length ? "the first " + numbers.format(drawn) + " of " + numbers.format(rows.length) +
          " rows in the table's order (sort the table to choose them)." : "all " + numbers.format(rows.length) + " rows.");
      figure.appendChild(caption);
      results.appendChild(figure);
    }

    // ---- running ----
    async function post(text, withInference, accept) {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: { Accept: accept },
        body: params(text, withInference),
      });
      return { response: response, text: await response.text() };
    }
    function showError(response, message) {
      status.textContent = "";
      const position = errorPosition(message);
      const heading = document.createElement("p");
      const strong = document.createElement("strong");
      strong.textContent = "Error " + response.status + " (" + response.statusText + ")";
      heading.appendChild(strong);
      if (position) heading.append(" at line " + position.line + ", column " + position.column);
      const detail = document.createElement("pre");
      detail.textContent = message;
      errorBox.append(heading, detail);
      errorBox.hidden = false;
      if (position) markError(position);
    }
    function unreachable(err) {
      status.textContent = "";
      errorBox.textContent = "The endpoint could not be reached: " + err;
      errorBox.hidden = false;
    }
    function describe(ms) {
      const n = result.rows.length;
      const unit = result.graph ? " triple(s)" : " result(s)";
      status.textContent = (result.complete ? numbers.format(n) : "the first " + numbers.format(n)) +
        unit + " in " + ms + " ms" +
        (result.truncated ? " (cut at the server's row limit: " + result.truncated + ")" : "");
    }
    async function run() {
      const text = input.value;
      const form = queryForm(text);
      const graph = ["CONSTRUCT", "DESCRIBE"].includes(form);
      const limit = form === "SELECT" ? Number(limitChoice.value) : 0;
      let sent = limit ? limited(text, limit + 1, 0) : null;
      clearError();
      results.textContent = "";
      status.textContent = "Running…";
      window.clearTimeout(draftTimer);
      keepDraft();
      const started = performance.now();
      const accept = graph ? "application/n-triples" : "application/sparql-results+json";
      let answer;
      try {
        answer = await post(sent || text, inference.checked, accept);
        if (sent && !answer.response.ok) {
          // the error of the query as written, at its own lines, not of the limited copy
          sent = null;
          answer = await post(text, inference.checked, accept);
        }
      } catch (err) {
        unreachable(err);
        return;
      }
      const ms = Math.round(performance.now() - started);
      if (!answer.response.ok) {
        remember(text, null);
        showError(answer.response, answer.text);
        return;
      }
      result = { query: text, inference: inference.checked, graph: graph, limit: sent ? limit : 0,
        complete: true, truncated: answer.response.headers.get("KG-Result-Truncated"),
        sortVar: null, sortDescending: false, page: 0, view: "table" };
      if (graph) {
        result.vars = ["subject", "predicate", "object"];
        result.rows = triples(answer.text);
      } else {
        const json = JSON.parse(answer.text);
        if (typeof json.boolean === "boolean") {
          result.boolean = json.boolean;
          result.rows = [];
          status.textContent = "ASK answered in " + ms + " ms";
          remember(text, null);
          show();
          return;
        }
        result.vars = json.head.vars;
        result.rows = json.results.bindings;
      }
      if (sent && result.rows.length > limit) {
        result.rows = result.rows.slice(0, limit);
        result.complete = false;
      }
      remember(text, result.complete ? result.rows.length : null);
      describe(ms);
      show();
    }
    async function more(all) {
      const text = all ? result.query : limited(result.query, result.limit + 1, result.rows.length);
      status.textContent = "Loading more rows…";
      const started = performance.now();
      let answer;
      try {
        answer = await post(text, result.inference, "application/sparql-results+json");
      } catch (err) {
        unreachable(err);
        return;
      }
      if (!answer.response.ok) {
        showError(answer.response, answer.text);
        return;
      }
      const rows = JSON.parse(answer.text).results.bindings;
      result.truncated = answer.response.headers.get("KG-Result-Truncated");
      if (all) {
        result.rows = rows;
        result.complete = true;
      } else {
        result.complete = rows.length <= result.limit;
        result.rows = result.rows.concat(rows.slice(0, result.limit));
      }
      describe(Math.round(performance.now() - started));
      show();
    }
    root.querySelector(".qe-run").addEventListener("click", run);

    // ---- start: the shared query, else this browser's draft ----
    root.classList.add("qe-ready");
    if (!root.hasAttribute("data-shared")) {
      const draft = kept.get(DRAFT_KEY, "");
      if (typeof draft === "string" && draft.trim()) input.value = draft;
    }
    refresh();
    showHistory();
    if (root.hasAttribute("data-shared")) run();
    window.addEventListener("resize", () => { if (result && result.view !== "table") show(); });
    window.addEventListener("pagehide", () => { window.clearTimeout(draftTimer); kept.set(DRAFT_KEY, input.value); });
  }

  function init() { document.querySelectorAll(".kg-query-editor").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
