//! `edgefleet report`: one self-contained HTML page about the fleet — sites by region and wave
//! with their hardware, backhaul and platform mix, what a change does (a [`FleetDiff`]), what
//! lint found and which sites drift — for a laptop screen and for paper.
//!
//! The page loads nothing: styles and the small script are inline, and a Content-Security-Policy
//! forbids every other source, so a page that tried to fetch something would say so in the
//! browser's console. Every table is plain HTML (the page reads the same with JavaScript off);
//! the script only adds sorting by column and a filter box. Counts carry `data-` attributes so
//! tools (and the tests) can read them from the DOM.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use edgefleet_inventory::Fleet;

use crate::diff::report::{group_title, thousands};
use crate::diff::{Change, FleetDiff};

/// A lint finding as the page shows it.
#[derive(Debug, Clone)]
pub struct LintRow {
    pub rule: String,
    pub severity: String,
    /// `file:line:col`.
    pub location: String,
    pub message: String,
    pub sites: Vec<String>,
}

/// What `lint --fleet` found, for the page.
#[derive(Debug, Clone, Default)]
pub struct LintSection {
    pub rows: Vec<LintRow>,
    pub objects: usize,
    pub files: usize,
    /// Problems that kept part of the fleet from being linted.
    pub problems: Vec<String>,
}

/// A site's drift status, for the page.
#[derive(Debug, Clone)]
pub struct DriftRow {
    pub site: String,
    /// `in-sync`, `drifted`, `unreachable` or `unauthorized` (`drift`, the word of reports
    /// written before `edgefleet drift` existed, is read as `drifted`).
    pub status: String,
    /// Objects that are not in sync (with how, when the report says), or why the site could
    /// not be asked.
    pub detail: String,
}

/// The site statuses of a drift report, in the order the page shows them.
pub const DRIFT_STATUSES: [&str; 4] = ["in-sync", "drifted", "unreachable", "unauthorized"];

/// Reads a drift report as `edgefleet drift --format json` writes it (errors name the file, and
/// the line and column for bad JSON): `{"version": 1, "sites": [{"site", "status", "region"?,
/// "wave"?, "error"?, "objects"?: [{"apiVersion"?, "kind", "namespace", "name", "status"?,
/// "diff"?}]}], "summary"?}`. Objects whose `status` is `in-sync` are not shown; objects
/// without a `status` (reports of other tools) are.
pub fn read_drift(file: &Path) -> Result<Vec<DriftRow>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a drift report: {e}",
            file.display(),
            e.line(),
            e.column()
        )
    })?;
    let bad = |what: &str| format!("{}: not a drift report: {what}", file.display());
    if doc.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(bad("expected `\"version\": 1`"));
    }
    let sites = doc
        .get("sites")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("expected a `sites` list"))?;
    let mut rows = Vec::with_capacity(sites.len());
    for (i, s) in sites.iter().enumerate() {
        let field = |k: &str| s.get(k).and_then(Value::as_str);
        let (Some(site), Some(status)) = (field("site"), field("status")) else {
            return Err(bad(&format!("sites[{i}] needs `site` and `status`")));
        };
        let status = match status {
            "drift" => "drifted",
            s if DRIFT_STATUSES.contains(&s) => s,
            other => {
                return Err(bad(&format!(
                    "sites[{i}].status is `{other}`; expected in-sync, drifted, unreachable or unauthorized"
                )));
            }
        };
        let detail = match (field("error"), s.get("objects").and_then(Value::as_array)) {
            (Some(e), _) => e.to_owned(),
            (None, Some(objects)) => objects
                .iter()
                .filter(|o| o.get("status").and_then(Value::as_str) != Some("in-sync"))
                .map(|o| {
                    let get = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("");
                    let ns = get("namespace");
                    let how = match get("status") {
                        "" => String::new(),
                        s => format!(" ({s})"),
                    };
                    format!(
                        "{} {}{}{}{how}",
                        get("kind"),
                        ns,
                        if ns.is_empty() { "" } else { "/" },
                        get("name")
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            (None, None) => String::new(),
        };
        rows.push(DriftRow {
            site: site.to_owned(),
            status: status.to_owned(),
            detail,
        });
    }
    Ok(rows)
}

/// Everything the page shows; sections without data are left out.
pub struct Page<'a> {
    pub fleet: &'a Fleet,
    /// Where the inventory came from (shown in the header).
    pub source: String,
    pub diff: Option<&'a FleetDiff>,
    pub lint: Option<&'a LintSection>,
    pub drift: Option<&'a [DriftRow]>,
}

const STYLE: &str = r#"
:root { --fg: #1d2329; --muted: #5b6670; --line: #d5dbe1; --head: #eef2f5; --accent: #0b5cad;
  --bad: #a3261b; --warn: #8a5a00; --ok: #1f6f3a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  margin: 0 auto; padding: 1.5rem; max-width: 1200px; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
p.lead { color: var(--muted); margin: 0 0 1rem; }
nav a { margin-right: 1rem; color: var(--accent); }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .9rem; min-width: 9rem; }
.card b { display: block; font-size: 1.5rem; }
.card span { color: var(--muted); }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 1rem; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; background: #f7f9fa; }
.error { color: var(--bad); } .warning { color: var(--warn); } .ok { color: var(--ok); }
.in-sync { color: var(--ok); } .drifted { color: var(--bad); } .unreachable, .unauthorized { color: var(--warn); }
details { border: 1px solid var(--line); border-radius: 6px; padding: .3rem .6rem; margin: .4rem 0; }
summary { cursor: pointer; font-weight: 600; }
code { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
input[type=search] { font: inherit; padding: .3rem .5rem; width: 100%; max-width: 26rem; margin: .3rem 0; }
th button { all: unset; cursor: pointer; font-weight: 600; }
th button::after { content: " \2195"; color: var(--muted); font-size: .8em; }
.hidden { display: none; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  nav, input[type=search], .noprint { display: none; }
  details { border: none; } details > summary { list-style: none; }
  h2 { break-after: avoid; } tr { break-inside: avoid; }
}
"#;

/// Sorting by a column's header and filtering a table by a search box; nothing else.
const SCRIPT: &str = r#"
(function () {
  "use strict";
  function cellValue(row, i) {
    var cell = row.cells[i];
    if (!cell) { return ""; }
    var n = cell.getAttribute("data-value");
    return n !== null ? Number(n) : cell.textContent.trim().toLowerCase();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var head = table.tHead;
    if (!head) { return; }
    Array.prototype.forEach.call(head.rows[0].cells, function (th, i) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      var ascending = true;
      button.addEventListener("click", function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, i), y = cellValue(b, i);
          var c = x < y ? -1 : x > y ? 1 : 0;
          return ascending ? c : -c;
        });
        ascending = !ascending;
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    input.classList.remove("hidden");
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var text = row.textContent.toLowerCase();
        row.classList.toggle("hidden", !words.every(function (w) { return text.indexOf(w) >= 0; }));
      });
    });
  });
  // Collapsed change groups print open.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  document.body.setAttribute("data-enhanced", "yes");
})();
"#;

/// Text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn num(n: usize) -> String {
    format!("<td class=\"num\" data-value=\"{n}\">{}</td>", thousands(n))
}

/// The waves in rollout order (the inventory's steps first, then any other wave by name).
fn waves(fleet: &Fleet) -> Vec<String> {
    let mut order: Vec<String> = fleet
        .rollout_steps()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let rest: BTreeSet<&String> = fleet
        .sites
        .iter()
        .map(|s| &s.wave)
        .filter(|w| !order.contains(w))
        .collect();
    order.extend(rest.into_iter().cloned());
    order.retain(|w| fleet.sites.iter().any(|s| &s.wave == w));
    order
}

/// The page.
pub fn render(page: &Page<'_>) -> String {
    let fleet = page.fleet;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <title>edgefleet report: {} sites</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        fleet.sites.len()
    );
    let _ = writeln!(
        out,
        "<header><h1>Fleet report</h1><p class=\"lead\">{} from <code>{}</code></p></header>",
        plural(fleet.sites.len(), "site"),
        esc(&page.source)
    );
    let mut nav = vec![("fleet", "Fleet")];
    if page.diff.is_some() {
        nav.push(("change", "Change impact"));
    }
    if page.lint.is_some() {
        nav.push(("lint", "Lint"));
    }
    if page.drift.is_some() {
        nav.push(("drift", "Drift"));
    }
    nav.push(("sites", "Sites"));
    out.push_str("<nav>");
    for (id, name) in &nav {
        let _ = write!(out, "<a href=\"#{id}\">{name}</a>");
    }
    out.push_str("</nav>\n");

    fleet_section(&mut out, fleet);
    if let Some(d) = page.diff {
        change_section(&mut out, d);
    }
    if let Some(l) = page.lint {
        lint_section(&mut out, l);
    }
    if let Some(d) = page.drift {
        drift_section(&mut out, d);
    }
    sites_section(&mut out, page);
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

fn plural(n: usize, word: &str) -> String {
    format!("{} {word}{}", thousands(n), if n == 1 { "" } else { "s" })
}

fn fleet_section(out: &mut String, fleet: &Fleet) {
    let waves = waves(fleet);
    let regions: BTreeSet<&String> = fleet.sites.iter().map(|s| &s.region).collect();
    let _ = writeln!(out, "<section id=\"fleet\"><h2>Fleet at a glance</h2>");
    let _ = writeln!(
        out,
        "<div class=\"cards\"><div class=\"card\"><b id=\"sites-total\" data-value=\"{0}\">{1}</b><span>sites</span></div>\
         <div class=\"card\"><b data-value=\"{2}\">{2}</b><span>regions</span></div>\
         <div class=\"card\"><b data-value=\"{3}\">{3}</b><span>waves</span></div>\
         <div class=\"card\"><b data-value=\"{4}\">{4}</b><span>hardware profiles</span></div>\
         <div class=\"card\"><b data-value=\"{5}\">{5}</b><span>backhaul profiles</span></div></div>",
        fleet.sites.len(),
        thousands(fleet.sites.len()),
        regions.len(),
        waves.len(),
        fleet.hardware.len(),
        fleet.backhaul.len()
    );
    // Region × wave.
    let _ = writeln!(
        out,
        "<h3>Sites by region and wave</h3>\n<table id=\"region-wave\" class=\"sortable\"><thead><tr><th>region</th>"
    );
    for w in &waves {
        let _ = write!(out, "<th class=\"num\">{}</th>", esc(w));
    }
    out.push_str("<th class=\"num\">sites</th></tr></thead><tbody>\n");
    let mut by_wave: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &regions {
        let _ = write!(out, "<tr data-region=\"{0}\"><td>{0}</td>", esc(r));
        let mut total = 0;
        for w in &waves {
            let n = fleet
                .sites
                .iter()
                .filter(|s| &&s.region == r && &s.wave == w)
                .count();
            *by_wave.entry(w).or_default() += n;
            total += n;
            out.push_str(&num(n));
        }
        let _ = writeln!(
            out,
            "{}</tr>",
            num(total).replace("<td", "<td data-total=\"sites\"")
        );
    }
    out.push_str("</tbody><tfoot><tr class=\"total\"><td>all regions</td>");
    for w in &waves {
        out.push_str(&num(by_wave.get(w.as_str()).copied().unwrap_or(0)));
    }
    let _ = writeln!(out, "{}</tr></tfoot></table>", num(fleet.sites.len()));

    // Hardware, backhaul and platform mix.
    out.push_str("<div class=\"grid\">\n");
    let mix = |out: &mut String,
               title: &str,
               id: &str,
               key: &dyn Fn(&edgefleet_inventory::Site) -> String| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for s in &fleet.sites {
            *counts.entry(key(s)).or_default() += 1;
        }
        let _ = writeln!(
            out,
            "<div><h3>{title}</h3><table id=\"{id}\" class=\"sortable\"><thead><tr><th>profile</th><th class=\"num\">sites</th></tr></thead><tbody>"
        );
        for (k, n) in counts {
            let _ = writeln!(
                out,
                "<tr data-key=\"{0}\"><td>{0}</td>{1}</tr>",
                esc(&k),
                num(n)
            );
        }
        out.push_str("</tbody></table></div>\n");
    };
    mix(out, "Hardware", "hardware-mix", &|s| s.hardware.clone());
    mix(out, "Backhaul", "backhaul-mix", &|s| s.backhaul.clone());
    mix(
        out,
        "Platform",
        "platform-mix",
        &|s| match fleet.platform_of(s) {
            Some(p) => format!("{} ({})", p.name, p.distribution),
            None => "none declared".to_owned(),
        },
    );
    out.push_str("</div></section>\n");
}

fn change_section(out: &mut String, d: &FleetDiff) {
    let _ = writeln!(
        out,
        "<section id=\"change\"><h2>Change impact: <code>{}</code>..<code>{}</code></h2>",
        esc(&d.base),
        esc(&d.head)
    );
    let _ = writeln!(
        out,
        "<div class=\"cards\">\
         <div class=\"card\"><b id=\"change-changed\" data-value=\"{}\">{}</b><span>sites changed</span></div>\
         <div class=\"card\"><b id=\"change-added\" data-value=\"{}\">{}</b><span>sites added</span></div>\
         <div class=\"card\"><b id=\"change-removed\" data-value=\"{}\">{}</b><span>sites removed</span></div>\
         <div class=\"card\"><b id=\"change-unchanged\" data-value=\"{}\">{}</b><span>unchanged</span></div></div>",
        d.count(Change::Changed),
        thousands(d.count(Change::Changed)),
        d.count(Change::Added),
        thousands(d.count(Change::Added)),
        d.count(Change::Removed),
        thousands(d.count(Change::Removed)),
        d.unchanged,
        thousands(d.unchanged),
    );
    if d.is_empty() {
        out.push_str("<p>No site receives anything different.</p></section>\n");
        return;
    }
    for (title, key) in [("region", 0usize), ("wave", 1)] {
        let mut counts: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
        for s in &d.sites {
            let k = if key == 0 { &s.region } else { &s.wave };
            let slot = match s.change {
                Change::Changed => 0,
                Change::Added => 1,
                Change::Removed => 2,
            };
            counts.entry(k).or_default()[slot] += 1;
        }
        let _ = writeln!(
            out,
            "<h3>By {title}</h3><table id=\"change-by-{title}\" class=\"sortable\"><thead><tr><th>{title}</th>\
             <th class=\"num\">changed</th><th class=\"num\">added</th><th class=\"num\">removed</th></tr></thead><tbody>"
        );
        for (k, [c, a, r]) in counts {
            let _ = writeln!(
                out,
                "<tr data-key=\"{0}\"><td>{0}</td>{1}{2}{3}</tr>",
                esc(k),
                num(c),
                num(a),
                num(r)
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("<h3>Changes</h3>\n");
    for g in d.groups() {
        let first = &d.sites[g.sites[0]];
        let _ = writeln!(
            out,
            "<details data-sites=\"{}\"><summary>{}</summary><ul>",
            g.sites.len(),
            esc(&group_title(d, &g))
        );
        for o in &first.objects {
            let _ = writeln!(
                out,
                "<li>{} <code>{}</code> ({})</li>",
                o.change.as_str(),
                esc(&o.title()),
                esc(&o.workload)
            );
        }
        let names: Vec<String> = g
            .sites
            .iter()
            .take(50)
            .map(|&i| esc(&d.sites[i].site))
            .collect();
        let more = g.sites.len().saturating_sub(50);
        let _ = writeln!(
            out,
            "</ul><p>Sites: {}{}</p></details>",
            names.join(", "),
            if more > 0 {
                format!(" and {} more", thousands(more))
            } else {
                String::new()
            }
        );
    }
    out.push_str("</section>\n");
}

fn lint_section(out: &mut String, l: &LintSection) {
    let _ = writeln!(out, "<section id=\"lint\"><h2>Lint findings</h2>");
    let errors = l.rows.iter().filter(|r| r.severity == "error").count();
    let sites: BTreeSet<&String> = l.rows.iter().flat_map(|r| &r.sites).collect();
    let _ = writeln!(
        out,
        "<div class=\"cards\"><div class=\"card\"><b id=\"lint-findings\" data-value=\"{}\">{}</b><span>findings</span></div>\
         <div class=\"card\"><b data-value=\"{errors}\">{}</b><span>errors</span></div>\
         <div class=\"card\"><b id=\"lint-sites\" data-value=\"{}\">{}</b><span>sites with findings</span></div>\
         <div class=\"card\"><b data-value=\"{}\">{}</b><span>objects linted</span></div></div>",
        l.rows.len(),
        thousands(l.rows.len()),
        thousands(errors),
        sites.len(),
        thousands(sites.len()),
        l.objects,
        thousands(l.objects),
    );
    for p in &l.problems {
        let _ = writeln!(out, "<p class=\"error\">{}</p>", esc(p));
    }
    if l.rows.is_empty() {
        out.push_str("<p class=\"ok\">No findings.</p></section>\n");
        return;
    }
    let mut by_rule: BTreeMap<(&str, &str), (usize, BTreeSet<&String>)> = BTreeMap::new();
    for r in &l.rows {
        let e = by_rule.entry((&r.rule, &r.severity)).or_default();
        e.0 += 1;
        e.1.extend(&r.sites);
    }
    out.push_str(
        "<h3>By rule</h3><table id=\"lint-by-rule\" class=\"sortable\"><thead><tr><th>rule</th><th>severity</th>\
         <th class=\"num\">findings</th><th class=\"num\">sites</th></tr></thead><tbody>\n",
    );
    for ((rule, severity), (n, sites)) in &by_rule {
        let _ = writeln!(
            out,
            "<tr data-rule=\"{0}\"><td><code>{0}</code></td><td class=\"{1}\">{1}</td>{2}{3}</tr>",
            esc(rule),
            esc(severity),
            num(*n),
            num(sites.len())
        );
    }
    out.push_str("</tbody></table>\n");
    out.push_str(
        "<h3>Findings</h3><input type=\"search\" class=\"hidden\" placeholder=\"Filter findings\" data-filter=\"lint-findings-table\" aria-label=\"Filter findings\">\
         <table id=\"lint-findings-table\" class=\"sortable\"><thead><tr><th>rule</th><th>severity</th><th>where</th>\
         <th>message</th><th>sites</th></tr></thead><tbody>\n",
    );
    for r in &l.rows {
        let shown: Vec<String> = r.sites.iter().take(10).map(|s| esc(s)).collect();
        let more = r.sites.len().saturating_sub(10);
        let _ = writeln!(
            out,
            "<tr><td><code>{0}</code></td><td class=\"{1}\">{1}</td><td><code>{2}</code></td><td>{3}</td><td data-value=\"{4}\">{5}{6}</td></tr>",
            esc(&r.rule),
            esc(&r.severity),
            esc(&r.location),
            esc(&r.message),
            r.sites.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {} more", thousands(more))
            } else {
                String::new()
            }
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn drift_section(out: &mut String, rows: &[DriftRow]) {
    let _ = writeln!(
        out,
        "<section id=\"drift\"><h2>Drift</h2><div class=\"cards\">"
    );
    for status in DRIFT_STATUSES {
        let n = rows.iter().filter(|r| r.status == status).count();
        // `drift-drift` is the drifted count's id since the first page (kept for tools).
        let id = if status == "drifted" { "drift" } else { status };
        let _ = write!(
            out,
            "<div class=\"card\"><b id=\"drift-{id}\" data-value=\"{n}\">{}</b><span class=\"{status}\">{status}</span></div>",
            thousands(n)
        );
    }
    out.push_str(
        "</div><table id=\"drift-table\" class=\"sortable\"><thead><tr><th>site</th><th>status</th><th>detail</th></tr></thead><tbody>\n",
    );
    for r in rows.iter().filter(|r| r.status != "in-sync") {
        let _ = writeln!(
            out,
            "<tr><td>{0}</td><td class=\"{1}\">{1}</td><td>{2}</td></tr>",
            esc(&r.site),
            esc(&r.status),
            esc(&r.detail)
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn sites_section(out: &mut String, page: &Page<'_>) {
    let fleet = page.fleet;
    let changed: BTreeMap<&str, Change> = page
        .diff
        .map(|d| {
            d.sites
                .iter()
                .map(|s| (s.site.as_str(), s.change))
                .collect()
        })
        .unwrap_or_default();
    let mut findings: BTreeMap<&str, usize> = BTreeMap::new();
    if let Some(l) = page.lint {
        for r in &l.rows {
            for s in &r.sites {
                *findings.entry(s.as_str()).or_default() += 1;
            }
        }
    }
    let drift: BTreeMap<&str, &str> = page
        .drift
        .map(|d| {
            d.iter()
                .map(|r| (r.site.as_str(), r.status.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<section id=\"sites\"><h2>Sites</h2>\
         <input type=\"search\" class=\"hidden\" placeholder=\"Filter sites (id, region, wave, profile…)\" data-filter=\"sites-table\" aria-label=\"Filter sites\">\
         <table id=\"sites-table\" class=\"sortable\"><thead><tr><th>site</th><th>region</th><th>wave</th><th>hardware</th>\
         <th>backhaul</th><th>platform</th>{}{}{}</tr></thead><tbody>",
        if page.diff.is_some() {
            "<th>change</th>"
        } else {
            ""
        },
        if page.lint.is_some() {
            "<th class=\"num\">findings</th>"
        } else {
            ""
        },
        if page.drift.is_some() {
            "<th>drift</th>"
        } else {
            ""
        },
    );
    for s in &fleet.sites {
        let _ = write!(
            out,
            "<tr data-site=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            esc(&s.id),
            esc(&s.id),
            esc(&s.region),
            esc(&s.wave),
            esc(&s.hardware),
            esc(&s.backhaul),
            esc(s.platform.as_deref().unwrap_or("")),
        );
        if page.diff.is_some() {
            let _ = write!(
                out,
                "<td>{}</td>",
                changed.get(s.id.as_str()).map_or("", |c| c.as_str())
            );
        }
        if page.lint.is_some() {
            out.push_str(&num(findings.get(s.id.as_str()).copied().unwrap_or(0)));
        }
        if page.drift.is_some() {
            let status = drift.get(s.id.as_str()).copied().unwrap_or("");
            let _ = write!(out, "<td class=\"{0}\">{0}</td>", esc(status));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></section>\n");
}

#[cfg(test)]
mod tests {
    use super::read_drift;

    fn drift(name: &str, text: &str) -> Result<Vec<super::DriftRow>, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        read_drift(&file).map_err(|e| e.replace(&dir.path().display().to_string(), "DIR"))
    }

    #[test]
    fn a_drift_report_is_read_and_a_bad_one_named_with_its_place() {
        let rows = drift(
            "ok.json",
            r#"{"version": 1, "sites": [{"site": "a", "status": "drift",
               "objects": [{"kind": "Deployment", "namespace": "n", "name": "x"}]},
               {"site": "b", "status": "unreachable", "error": "timeout"}]}"#,
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].status, "drifted", "the old word is read");
        assert_eq!(rows[0].detail, "Deployment n/x");
        assert_eq!(rows[1].detail, "timeout");
        let err = drift("bad.json", "{\"version\": 1,\n  \"sites\": [,]}").unwrap_err();
        assert!(err.starts_with("DIR/bad.json:2:"), "{err}");
        let err = drift(
            "status.json",
            r#"{"version": 1, "sites": [{"site": "a", "status": "late"}]}"#,
        )
        .unwrap_err();
        assert!(err.contains("sites[0].status is `late`"), "{err}");
        let err = drift("v.json", r#"{"sites": []}"#).unwrap_err();
        assert!(err.contains("\"version\": 1"), "{err}");
    }

    /// What `edgefleet drift --format json` writes: every object with its status, diffs,
    /// regions and waves, a summary, and the statuses `drifted` and `unauthorized`.
    #[test]
    fn the_report_edgefleet_drift_writes_is_read() {
        let rows = drift(
            "drift.json",
            r#"{"version": 1, "sites": [
                {"site": "a", "region": "eu-north", "wave": "canary", "status": "drifted", "objects": [
                    {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "n", "name": "x", "status": "drifted", "diff": "--- git\n+++ live\n"},
                    {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "n", "name": "y", "status": "in-sync"},
                    {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "n", "name": "z", "status": "extra"},
                    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "namespace": null, "name": "r", "status": "missing"}]},
                {"site": "b", "region": "eu-north", "wave": "main", "status": "unauthorized", "error": "403 Forbidden", "objects": []},
                {"site": "c", "region": "eu-north", "wave": "main", "status": "in-sync", "objects": []}],
              "summary": {"sites": 3, "in-sync": 1, "drifted": 1, "unreachable": 0, "unauthorized": 1}}"#,
        )
        .unwrap();
        let got: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| (r.site.as_str(), r.status.as_str(), r.detail.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "a",
                    "drifted",
                    "Deployment n/x (drifted), ConfigMap n/z (extra), ClusterRole r (missing)"
                ),
                ("b", "unauthorized", "403 Forbidden"),
                ("c", "in-sync", ""),
            ]
        );
    }
}
