// The netshape playground: the editor, the table, explain, diagnostics with
// fix buttons, sizes, a diagram and solve — every answer from the CLI's own
// code in WebAssembly (src/wasm_api.cc), asked exactly as a person types a
// command. No framework: the page is small enough for the DOM.
"use strict";

(async function () {
  const $ = (id) => document.getElementById(id);
  const FILE = "spec.json";  // the name messages give the spec
  const core = await createNetshape();

  // ---- the C API -----------------------------------------------------------
  function cstr(s) {
    const n = core.lengthBytesUTF8(s) + 1;
    const p = core._malloc(n);
    core.stringToUTF8(s, p, n);
    return p;
  }
  // `netshape ARGS` on the spec text (null: no spec, as for solve). The text
  // goes with its length: a NUL in it is netshape's error, as on the command line.
  function call(args, text) {
    const spec = text || "";
    const ptrs = [cstr(JSON.stringify(args)), cstr(text === null ? "" : FILE), cstr(spec)];
    try {
      const code = core._netshape_call(...ptrs, core.lengthBytesUTF8(spec));
      return { code, stdout: core.UTF8ToString(core._netshape_stdout()), stderr: core.UTF8ToString(core._netshape_stderr()) };
    } finally {
      ptrs.forEach((p) => core._free(p));
    }
  }

  // ---- state ------------------------------------------------------------------
  const editor = $("editor");
  let overrides = [];  // --set changes a fix made that the text cannot hold (inside a block)
  let report = null;   // the last `table --format json`
  let selected = null; // the row whose explanation is shown
  const setArgs = () => overrides.flatMap((s) => ["--set", s]);

  // ---- the spec in the URL: #spec=<base64url of the JSON> ---------------------
  function toBase64url(text) {
    const bytes = new TextEncoder().encode(text);
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function fromBase64url(b64) {
    const bin = atob(b64.replace(/-/g, "+").replace(/_/g, "/"));
    return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  }
  function specFromHash() {
    const m = location.hash.match(/^#spec=([A-Za-z0-9_-]*)/);
    if (!m) return null;
    try { return fromBase64url(m[1]); } catch (e) { return null; }
  }

  // ---- JSON Pointer -> position in the text ------------------------------------
  // A small JSON reader that records where every value starts and ends, and
  // where each object's opening brace is: diagnostics name JSON Pointers, the
  // editor needs lines, and a fix is written into the text in place.
  function locate(text) {
    const spans = new Map();
    let i = 0;
    const ws = () => { while (i < text.length && " \t\r\n".includes(text[i])) i++; };
    const esc = (k) => k.replace(/~/g, "~0").replace(/\//g, "~1");
    function string() {
      const start = i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
      return JSON.parse(text.slice(start, i));
    }
    function value(ptr) {
      ws();
      const start = i;
      const c = text[i];
      if (c === "{") {
        i++; ws();
        const keys = new Map();
        while (i < text.length && text[i] !== "}") {
          ws();
          const k = string(); ws(); i++;  // the colon
          ws();
          keys.set(k, i);
          value(ptr + "/" + esc(k)); ws();
          if (text[i] === ",") i++;
          ws();
        }
        i++;
        spans.set(ptr, { start, end: i, object: true, keys });
        return;
      }
      if (c === "[") {
        i++; ws();
        let n = 0;
        while (i < text.length && text[i] !== "]") {
          value(ptr + "/" + n++); ws();
          if (text[i] === ",") i++;
          ws();
        }
        i++;
      } else if (c === '"') {
        string();
      } else {
        while (i < text.length && !",}] \t\r\n".includes(text[i])) i++;
      }
      spans.set(ptr, { start, end: i });
    }
    try { value(""); } catch (e) { /* malformed: netshape reports it with a line */ }
    return spans;
  }
  // Where every line starts, for a binary search: diagnostics are located
  // once per evaluation, however many there are (2,000 used to re-scan the text 2,000 times).
  function lineStarts(text) {
    const starts = [0];
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
    return starts;
  }
  function lineAt(starts, offset) {
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    return lo + 1;
  }
  function lineOf(d, spans, starts) {
    if (d.line) return d.line;
    for (let p = d.pointer; p !== undefined; p = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : undefined) {
      const s = spans.get(p);
      if (s) return lineAt(starts, s.start);
      if (!p) break;
    }
    return null;
  }

  // ---- evaluate: `netshape table spec.json --format json` -----------------------
  let lastCost = 0;  // ms the last evaluation took: large specs wait for a pause in typing
  function evaluate() {
    const text = editor.value;
    const t0 = performance.now();
    const r = call(["table", FILE, "--format", "json", ...setArgs()], text);
    try { report = JSON.parse(r.stdout); } catch (e) { report = null; }
    document.body.dataset.callMs = (performance.now() - t0).toFixed(2);
    render(text, r);
    const ms = performance.now() - t0;  // netshape, the JSON and the page's update
    lastCost = ms;
    document.body.dataset.lastMs = ms.toFixed(2);
    $("status").textContent = `evaluated in ${ms.toFixed(1)} ms` + (overrides.length ? ` · with ${overrides.join(" ")}` : "");
    document.body.dataset.evaluations = String(Number(document.body.dataset.evaluations || 0) + 1);
    history.replaceState(null, "", "#spec=" + toBase64url(text));
    if ($("sizes-panel").open) sizes();
    if (selected) explain(selected, false);
  }

  function shape(s) { return s ? "[" + s.join(", ") + "]" : "✗"; }
  // 21801896 -> "21,801,896" (toLocaleString is many times slower, per row).
  const thousands = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const escape = (t) => String(t).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  function render(text, r) {
    const tbody = $("table").tBodies[0];
    tbody.textContent = "";
    const summary = $("summary");
    if (!report) {
      summary.className = "invalid";
      summary.textContent = r.stderr || "netshape gave no report";
      renderDiagnostics([], text);
      return;
    }
    const errors = report.diagnostics.filter((d) => d.severity === "error").length;
    summary.className = report.valid ? "" : "invalid";
    summary.textContent = report.valid
      ? `${report.name}: ${shape(report.input_shape)} → ${report.output_shapes.map(shape).join(", ")} · ` +
        `${report.layers.length} layers · ${thousands(report.params)} parameters · ` +
        `${thousands(report.macs)} MACs`
      : `${report.name}: invalid (${errors} error${errors === 1 ? "" : "s"})`;
    // One string for the whole body: a DOM call per cell made the table the
    // slowest part of a keystroke on ResNet50. At most `shownRows` rows: a
    // 100,000-row spec (a 100-byte link can make one) shows its first rows
    // and a button for more, so the page stays responsive.
    const html = [];
    const rows = report.layers.slice(0, shownRows);
    for (const row of rows) {
      const cls = [!row.output_shape && "failed", row.input_shapes && "merge", row.name === selected && "selected"]
        .filter(Boolean).join(" ");
      const input = row.input_shapes ? row.input_shapes.map(shape).join(" + ") : shape(row.input_shape);
      html.push(`<tr tabindex="0" data-name="${escape(row.name)}" class="${cls}"><td>${escape(row.name)}</td>` +
                `<td>${escape(row.type)}</td><td>${input}</td><td>${shape(row.output_shape)}</td>` +
                `<td>${escape(row.arguments)}</td><td class="num">${thousands(row.params)}</td></tr>`);
    }
    if (report.layers.length > rows.length)
      html.push(`<tr class="more"><td colspan="6">showing the first ${thousands(rows.length)} of ` +
                `${thousands(report.layers.length)} rows · <button type="button" id="more-rows">show ` +
                `${thousands(Math.min(ROWS, report.layers.length - rows.length))} more</button></td></tr>`);
    tbody.innerHTML = html.join("");
    renderDiagnostics(report.diagnostics, text);
    if ($("diagram-panel").open) diagram();
  }

  // ---- diagnostics, in the gutter and listed, with their fixes as buttons --------
  const DIAGNOSTICS = 200;  // listed at most; every one still marks its line
  function renderDiagnostics(diags, text) {
    const box = $("diagnostics");
    box.textContent = "";
    const marks = new Map();
    const spans = diags.some((d) => !d.line) ? locate(text) : new Map(), starts = lineStarts(text);
    const lines = diags.map((d) => lineOf(d, spans, starts));
    diags.forEach((d, k) => {
      if (lines[k]) marks.set(lines[k], marks.get(lines[k]) === "bad" || d.severity === "error" ? "bad" : "warn");
    });
    if (diags.length > DIAGNOSTICS) {
      const note = document.createElement("div");
      note.className = "diag more";
      note.textContent = `showing the first ${DIAGNOSTICS} of ${thousands(diags.length)} diagnostics (all are marked in the gutter)`;
      box.appendChild(note);
    }
    diags.slice(0, DIAGNOSTICS).forEach((d, k) => {
      const line = lines[k];
      const div = document.createElement("div");
      div.className = "diag " + d.severity;
      const head = document.createElement("div");
      head.className = "head";
      head.textContent = `${d.severity}[${d.code}]: ${d.message}`;
      div.appendChild(head);
      const where = document.createElement("button");
      where.type = "button";
      where.className = "where";
      where.textContent = `${line ? "line " + line + " · " : ""}${d.pointer || "/"}${d.layer ? " (" + d.layer + ")" : ""}`;
      where.addEventListener("click", () => goToLine(line));
      div.appendChild(where);
      const ul = document.createElement("ul");
      for (const n of d.notes) {
        const li = document.createElement("li");
        li.textContent = n;
        ul.appendChild(li);
      }
      if (d.help && !d.fixes.length) {
        const li = document.createElement("li");
        li.textContent = "help: " + d.help;
        ul.appendChild(li);
      }
      div.appendChild(ul);
      for (const f of d.fixes) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "fix";
        b.textContent = `Fix: ${f.description}${f.makes_valid ? " (the spec is then valid)" : ""} — ${f.set.join(" ")}`;
        b.addEventListener("click", () => applyFix(f));
        div.appendChild(b);
      }
      box.appendChild(div);
    });
    gutter(starts.length, marks);
  }

  // The line numbers as one string (a node per line made a long spec slow):
  // plain text, with a span only where a diagnostic marks the line.
  function gutter(n, marks) {
    const parts = [];
    let run = [];
    for (let i = 1; i <= n; i++) {
      if (marks && marks.has(i)) {
        if (run.length) parts.push(run.join("\n") + "\n"), run = [];
        parts.push(`<span class="${marks.get(i)}">${i}\n</span>`);
      } else {
        run.push(i);
      }
    }
    if (run.length) parts.push(run.join("\n") + "\n");
    $("gutter").innerHTML = parts.join("");
  }

  const ROWS = 2000;  // the table's rows drawn at a time
  let shownRows = ROWS;

  function goToLine(line) {
    if (!line) return;
    const lines = editor.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0);
    editor.focus();
    editor.setSelectionRange(start, start + lines[line - 1].length);
    editor.scrollTop = Math.max(0, (line - 5) * 18);
  }

  // A fix is `--set NAME.FIELD=VALUE` (or `input=…`), checked by netshape before
  // it was offered. It is written into the text where the layer is written
  // there; a layer made by a block (its pointer is in /blocks/) keeps the
  // change as a --set beside the text.
  function applyFix(fix) {
    let text = editor.value;
    for (const set of fix.set) {
      const eq = set.indexOf("=");
      const target = set.slice(0, eq), raw = set.slice(eq + 1);
      let value;
      try { value = JSON.parse(raw); } catch (e) { value = raw; }
      if (target === "input") value = raw.split(",").map((x) => (/^-?\d+$/.test(x) ? Number(x) : x));
      const dot = target.lastIndexOf(".");
      const layer = target === "input" ? "" : target.slice(0, dot);
      const field = target === "input" ? "input" : target.slice(dot + 1);
      const row = report && report.layers.find((r) => r.name === layer);
      const pointer = target === "input" ? "" : row && row.pointer;
      const edited = pointer !== undefined && pointer !== null && !pointer.startsWith("/blocks/")
        ? writeField(text, pointer, field, value) : null;
      if (edited === null) overrides.push(set);
      else text = edited;
    }
    editor.value = text;
    evaluate();
  }

  // The text with `field` of the object at `pointer` set to `value`, the rest
  // of the text as it was; null when the object is not found.
  function writeField(text, pointer, field, value) {
    const spans = locate(text);
    const obj = spans.get(pointer);
    if (!obj || !obj.object) return null;
    const json = JSON.stringify(value);
    const at = spans.get(pointer + "/" + field.replace(/~/g, "~0").replace(/\//g, "~1"));
    if (at) return text.slice(0, at.start) + json + text.slice(at.end);
    const open = obj.start + 1;
    const empty = obj.keys.size === 0;
    return text.slice(0, open) + `"${field}": ${json}${empty ? "" : ", "}` + text.slice(open);
  }

  // ---- explain, sizes, solve: the commands' own text ----------------------------
  function explain(name, scroll) {
    selected = name;
    for (const tr of $("table").tBodies[0].rows) tr.classList.toggle("selected", tr.dataset.name === name);
    const r = call(["explain", FILE, "--layer", name, ...setArgs()], editor.value);
    $("explain-name").textContent = name;
    $("explain").textContent = (r.stdout || r.stderr).trim();  // the diagnostics are listed already
    $("explain-panel").open = true;
    if (scroll) $("explain-panel").scrollIntoView({ block: "nearest" });
  }
  function sizes() {
    const r = call(["sizes", FILE, ...setArgs()], editor.value);
    $("sizes").textContent = (r.stdout + r.stderr).trim();
  }
  $("sizes-panel").addEventListener("toggle", () => { if ($("sizes-panel").open) sizes(); });
  $("diagram-panel").addEventListener("toggle", () => { if ($("diagram-panel").open) diagram(); });
  $("solve").addEventListener("submit", (e) => {
    e.preventDefault();
    const args = ["solve"];
    for (const el of e.target.elements) {
      if (el.type === "checkbox" && el.checked) args.push("--" + el.name);
      else if (el.type !== "checkbox" && el.name && el.value.trim()) args.push("--" + el.name, el.value.trim());
    }
    const r = call(args, null);
    $("solve-out").textContent = (r.stdout + r.stderr).trim();
  });

  const tbody = $("table").tBodies[0];
  tbody.addEventListener("click", (e) => {
    if (e.target.id === "more-rows") {
      shownRows += ROWS;
      render(editor.value, { stderr: "" });
      return;
    }
    const tr = e.target.closest("tr");
    if (tr && tr.dataset.name !== undefined) explain(tr.dataset.name, true);
  });
  tbody.addEventListener("keydown", (e) => {
    const tr = e.target.closest("tr");
    if (!tr) return;
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); explain(tr.dataset.name, true); }
    if (e.key === "ArrowDown" && tr.nextElementSibling) { e.preventDefault(); tr.nextElementSibling.focus(); }
    if (e.key === "ArrowUp" && tr.previousElementSibling) { e.preventDefault(); tr.previousElementSibling.focus(); }
  });

  // ---- the diagram: one box per row, merges fed by their branches ---------------
  const DIAGRAM_ROWS = 1000;  // boxes drawn at most: an SVG of 100,000 boxes would stall the page
  function diagram() {
    const box = $("diagram");
    box.textContent = "";
    if (!report || !report.layers.length) return;
    const rows = report.layers.slice(0, DIAGRAM_ROWS);
    if (report.layers.length > rows.length) {
      const note = document.createElement("p");
      note.textContent = `the first ${thousands(rows.length)} of ${thousands(report.layers.length)} layers`;
      box.appendChild(note);
    }
    const H = 22, W = 360, X = 120;
    const index = new Map(rows.map((r, i) => [r.name, i]));
    const failed = new Set(rows.map((r, i) => (!r.output_shape ? i : -1)).filter((i) => i >= 0));
    // The row that gives a name's value: a layer's own row; a container's last row.
    const lastOf = (name) => {
      if (index.has(name)) return index.get(name);
      let found = -1;
      rows.forEach((r, i) => { if (r.name.startsWith(name + ".")) found = i; });
      return found;
    };
    const edges = [];
    rows.forEach((r, i) => {
      // A merge names the layer behind each input (input_layers); a layer
      // with `from` its one; any other reads the row above it.
      const from = r.input_layers || (r.from !== undefined ? [r.from] : []);
      if (from.length) {
        for (const f of from) edges.push([f === "input" ? -1 : lastOf(f), i]);
      } else if (i > 0) {
        edges.push([i - 1, i]);
      }
    });
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", W + X + 20);
    svg.setAttribute("height", (rows.length + 1) * H + 10);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "The network as a diagram");
    const y = (i) => (i + 1) * H + 5;
    for (const [a, b] of edges) {
      if (a === b - 1) continue;  // the next box: the column itself says so
      const p = document.createElementNS(ns, "path");
      const y1 = a < 0 ? 5 : y(a) + H / 2 - 4, y2 = y(b) + H / 2 - 4;
      const bend = Math.min(X - 10, 12 + (b - a) * 1.5);
      p.setAttribute("d", `M ${X} ${y1} C ${X - bend} ${y1}, ${X - bend} ${y2}, ${X} ${y2}`);
      p.setAttribute("class", "edge" + (failed.has(b) ? " failed" : ""));
      svg.appendChild(p);
    }
    rows.forEach((r, i) => {
      const g = document.createElementNS(ns, "g");
      g.setAttribute("class", "box" + (r.input_shapes ? " merge" : "") + (failed.has(i) ? " failed" : ""));
      const rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", X); rect.setAttribute("y", y(i)); rect.setAttribute("width", W);
      rect.setAttribute("height", H - 4); rect.setAttribute("rx", 3);
      const t = document.createElementNS(ns, "text");
      t.setAttribute("x", X + 6); t.setAttribute("y", y(i) + 13);
      t.textContent = `${r.name}  ${r.type}  → ${shape(r.output_shape)}`;
      const title = document.createElementNS(ns, "title");
      title.textContent = `${r.name}: ${r.type} ${r.arguments}`;
      g.append(rect, t, title);
      g.addEventListener("click", () => explain(r.name, true));
      svg.appendChild(g);
    });
    box.appendChild(svg);
  }

  // ---- wiring --------------------------------------------------------------------
  const specs = [...document.querySelectorAll("script.spec")];
  const select = $("specs");
  const custom = new Option("(edited)", "");
  select.add(custom);
  for (const s of specs) select.add(new Option(s.dataset.file.replace(/^specs\//, "").replace(/\.json$/, ""), s.dataset.file));
  function load(text) {
    overrides = [];
    selected = null;
    shownRows = ROWS;
    editor.value = text;
    $("explain").textContent = "";
    $("explain-name").textContent = "(click a row)";
    evaluate();
  }
  select.addEventListener("change", () => {
    const s = specs.find((x) => x.dataset.file === select.value);
    if (s) load(s.textContent.replace(/<\\\//g, "</"));
  });
  // One evaluation per frame while it is cheap; once one takes longer than a
  // frame (a huge spec), evaluate when typing pauses, so keys never queue up.
  let pending = false, idle = null;
  editor.addEventListener("input", () => {
    select.value = "";
    if (lastCost > 50) {
      clearTimeout(idle);
      $("status").textContent = "evaluating when you pause (the last evaluation took " + lastCost.toFixed(0) + " ms)";
      idle = setTimeout(evaluate, Math.min(1000, 150 + lastCost / 2));
      return;
    }
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; evaluate(); });
  });
  editor.addEventListener("scroll", () => { $("gutter").scrollTop = editor.scrollTop; });
  editor.addEventListener("keydown", (e) => {  // Tab indents; Escape leaves the editor for the keyboard's sake
    if (e.key === "Tab" && !e.shiftKey && !e.ctrlKey) {
      e.preventDefault();
      const s = editor.selectionStart;
      editor.setRangeText("  ", s, editor.selectionEnd, "end");
      editor.dispatchEvent(new Event("input"));
    } else if (e.key === "Escape") {
      editor.blur();
      select.focus();
    }
  });
  $("share").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      $("status").textContent = "link copied: it holds the spec";
    } catch (e) {
      window.prompt("The link holds the spec:", location.href);
    }
  });
  window.addEventListener("hashchange", () => {
    const text = specFromHash();
    if (text !== null && text !== editor.value) { select.value = ""; load(text); }
  });

  const fromHash = specFromHash();
  if (fromHash !== null) {
    select.value = "";
    load(fromHash);
  } else {
    select.value = "specs/resnet34.json";
    select.dispatchEvent(new Event("change"));
  }
  document.body.dataset.ready = "true";
})().catch((e) => {
  document.getElementById("status").textContent = "netshape failed to start: " + e;
  document.body.dataset.ready = "error";
});
