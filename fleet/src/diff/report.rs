//! A [`FleetDiff`] for people and programs: plain text for a terminal, JSON (version 1) for
//! tools, Markdown sized for a pull-request comment.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Change, FleetDiff, Group, SiteChange};

/// GitHub refuses comments over 65,536 characters; the Markdown report stops adding groups
/// before this, and counts what it left out.
pub const MARKDOWN_LIMIT: usize = 60_000;

/// Sites named in a group's list before the rest are counted.
const SITES_NAMED: usize = 20;

/// Changed, added and removed sites per key (region or wave).
fn tally(diff: &FleetDiff, key: impl Fn(&SiteChange) -> &str) -> BTreeMap<String, [usize; 3]> {
    let mut out: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for s in &diff.sites {
        let slot = match s.change {
            Change::Changed => 0,
            Change::Added => 1,
            Change::Removed => 2,
        };
        out.entry(key(s).to_owned()).or_default()[slot] += 1;
    }
    out
}

/// `1,234`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// `a`, `a and b`, `a, b and c`.
fn and_list<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    let items: Vec<&String> = items.into_iter().collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => (*one).clone(),
        [rest @ .., last] => format!(
            "{} and {last}",
            rest.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// One line naming a group: `the same change at 2,340 sites in eu-central, waves early and main`,
/// or `site s1 (eu-central, wave early)` for a group of one.
pub fn group_title(diff: &FleetDiff, g: &Group) -> String {
    let first = &diff.sites[g.sites[0]];
    let what = match first.change {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Changed => "changed",
    };
    if g.sites.len() == 1 {
        return format!(
            "site {} ({}, wave {}): {what}",
            first.site, first.region, first.wave
        );
    }
    let regions = and_list(&g.regions);
    let waves = and_list(&g.waves);
    let (rword, wword) = (
        if g.regions.len() == 1 {
            "region"
        } else {
            "regions"
        },
        if g.waves.len() == 1 { "wave" } else { "waves" },
    );
    let how = match first.change {
        Change::Changed => "the same change at",
        Change::Added => "added, the same objects at",
        Change::Removed => "removed, the same objects at",
    };
    format!(
        "{how} {} in {rword} {regions}, {wword} {waves}",
        plural(g.sites.len(), "site", "sites")
    )
}

fn moved_line(s: &SiteChange) -> Option<String> {
    let (region, wave) = s.moved_from.as_ref()?;
    let mut parts = Vec::new();
    if *region != s.region {
        parts.push(format!("region {region} -> {}", s.region));
    }
    if *wave != s.wave {
        parts.push(format!("wave {wave} -> {}", s.wave));
    }
    Some(format!("moved: {}", parts.join(", ")))
}

fn headline(diff: &FleetDiff) -> String {
    format!(
        "{} changed, {} added, {} removed ({} unchanged); objects: {} changed, {} added, {} removed",
        plural(diff.count(Change::Changed), "site", "sites"),
        thousands(diff.count(Change::Added)),
        thousands(diff.count(Change::Removed)),
        thousands(diff.unchanged),
        thousands(diff.count_objects(Change::Changed)),
        thousands(diff.count_objects(Change::Added)),
        thousands(diff.count_objects(Change::Removed)),
    )
}

fn tally_line(counts: &BTreeMap<String, [usize; 3]>) -> String {
    counts
        .iter()
        .map(|(k, [c, a, r])| {
            let mut parts = Vec::new();
            for (n, word) in [(c, "changed"), (a, "added"), (r, "removed")] {
                if *n > 0 {
                    parts.push(format!("{} {word}", thousands(*n)));
                }
            }
            format!("{k} {}", parts.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The plain-text report; `objects` adds the unified diff of every object of each group's
/// first site.
pub fn human(diff: &FleetDiff, objects: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}..{}: {}", diff.base, diff.head, headline(diff));
    if diff.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "by region: {}",
        tally_line(&tally(diff, |s| &s.region))
    );
    let _ = writeln!(out, "by wave:   {}", tally_line(&tally(diff, |s| &s.wave)));
    for g in diff.groups() {
        let first = &diff.sites[g.sites[0]];
        let _ = writeln!(out, "\n{}", group_title(diff, &g));
        if let Some(m) = moved_line(first) {
            let _ = writeln!(out, "  {m}");
        }
        for o in &first.objects {
            let _ = writeln!(
                out,
                "  {:<8} {}/{}",
                o.change.as_str(),
                o.workload,
                o.title()
            );
        }
        if g.sites.len() > 1 {
            let _ = writeln!(out, "  sites: {}", site_list(diff, &g));
        }
        if objects {
            for o in &first.objects {
                if o.before.is_some() || o.after.is_some() {
                    let _ = write!(out, "{}", indent(&o.unified(), "  "));
                }
            }
        }
    }
    out
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

fn site_list(diff: &FleetDiff, g: &Group) -> String {
    let names: Vec<&str> = g
        .sites
        .iter()
        .take(SITES_NAMED)
        .map(|&i| diff.sites[i].site.as_str())
        .collect();
    let rest = g.sites.len().saturating_sub(SITES_NAMED);
    let mut text = names.join(", ");
    if rest > 0 {
        let _ = write!(text, " and {} more", thousands(rest));
    }
    text
}

/// The JSON report (`version` 1); unchanged sites are not listed. With `objects`, each object
/// carries its unified `diff` (when its text was kept).
pub fn json(diff: &FleetDiff, objects: bool) -> Value {
    let sites: Vec<Value> = diff
        .sites
        .iter()
        .map(|s| {
            let mut site = json!({
                "site": s.site,
                "region": s.region,
                "wave": s.wave,
                "change": s.change.as_str(),
                "objects": s.objects.iter().map(|o| {
                    let mut v = json!({
                        "workload": o.workload,
                        "apiVersion": o.api_version,
                        "kind": o.kind,
                        "namespace": o.namespace,
                        "name": o.name,
                        "change": o.change.as_str(),
                    });
                    if objects && (o.before.is_some() || o.after.is_some()) {
                        v["diff"] = Value::String(o.unified());
                    }
                    v
                }).collect::<Vec<_>>(),
            });
            if let Some((region, wave)) = &s.moved_from {
                site["movedFrom"] = json!({"region": region, "wave": wave});
            }
            site
        })
        .collect();
    let counts = |m: BTreeMap<String, [usize; 3]>| -> Value {
        Value::Object(
            m.into_iter()
                .map(|(k, [c, a, r])| (k, json!({"changed": c, "added": a, "removed": r})))
                .collect(),
        )
    };
    let groups: Vec<Value> = diff
        .groups()
        .iter()
        .map(|g| {
            json!({
                "title": group_title(diff, g),
                "sites": g.sites.iter().map(|&i| diff.sites[i].site.clone()).collect::<Vec<_>>(),
                "regions": g.regions,
                "waves": g.waves,
            })
        })
        .collect();
    json!({
        "version": 1,
        "base": diff.base,
        "head": diff.head,
        "sites": sites,
        "groups": groups,
        "summary": {
            "sites": {
                "changed": diff.count(Change::Changed),
                "added": diff.count(Change::Added),
                "removed": diff.count(Change::Removed),
                "unchanged": diff.unchanged,
            },
            "objects": {
                "changed": diff.count_objects(Change::Changed),
                "added": diff.count_objects(Change::Added),
                "removed": diff.count_objects(Change::Removed),
            },
            "byRegion": counts(tally(diff, |s| &s.region)),
            "byWave": counts(tally(diff, |s| &s.wave)),
        },
    })
}

/// Markdown for a pull-request comment: the summary, tables by region and wave, then one
/// collapsed section per group, stopping before [`MARKDOWN_LIMIT`] characters with the rest
/// counted.
pub fn markdown(diff: &FleetDiff, objects: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### edgefleet diff `{}`..`{}`\n", diff.base, diff.head);
    let _ = writeln!(out, "{}\n", headline(diff));
    if diff.is_empty() {
        let _ = writeln!(out, "No site receives anything different.");
        return out;
    }
    for (title, counts) in [
        ("region", tally(diff, |s| &s.region)),
        ("wave", tally(diff, |s| &s.wave)),
    ] {
        let _ = writeln!(
            out,
            "| {title} | changed | added | removed |\n|---|---:|---:|---:|"
        );
        for (k, [c, a, r]) in counts {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                escape(&k),
                thousands(c),
                thousands(a),
                thousands(r)
            );
        }
        out.push('\n');
    }
    let groups = diff.groups();
    let mut left = (0usize, 0usize);
    for (n, g) in groups.iter().enumerate() {
        let section = group_markdown(diff, g, objects);
        if out.len() + section.len() > MARKDOWN_LIMIT {
            left = (
                groups.len() - n,
                groups[n..].iter().map(|g| g.sites.len()).sum(),
            );
            break;
        }
        out.push_str(&section);
    }
    if left.0 > 0 {
        let _ = writeln!(
            out,
            "\n_{} more ({}) not shown: the comment would be too long; \
             `edgefleet diff --base {} --format json` lists every site._",
            plural(left.0, "group", "groups"),
            plural(left.1, "site", "sites"),
            diff.base
        );
    }
    out
}

fn group_markdown(diff: &FleetDiff, g: &Group, objects: bool) -> String {
    let first = &diff.sites[g.sites[0]];
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<details><summary>{}</summary>\n",
        escape(&group_title(diff, g))
    );
    if let Some(m) = moved_line(first) {
        let _ = writeln!(s, "- {}", escape(&m));
    }
    for o in &first.objects {
        let _ = writeln!(
            s,
            "- {} `{}` ({})",
            o.change.as_str(),
            o.title(),
            escape(&o.workload)
        );
    }
    if g.sites.len() > 1 {
        let _ = writeln!(s, "\nSites: {}", escape(&site_list(diff, g)));
    }
    if objects {
        for o in &first.objects {
            if o.before.is_some() || o.after.is_some() {
                let fence = if o.unified().contains("```") {
                    "~~~~"
                } else {
                    "```"
                };
                let _ = writeln!(s, "\n{fence}diff\n{}{fence}", o.unified());
            }
        }
    }
    s.push_str("\n</details>\n");
    s
}

/// Text from the inventory in Markdown and HTML: `<`, `>`, `&`, `|`, and backticks escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("\\|"),
            '`' => out.push_str("\\`"),
            c => out.push(c),
        }
    }
    out
}
