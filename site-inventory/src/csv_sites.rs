//! Sites from CSV: one row per site, as exported from NetBox or a spreadsheet.
//!
//! Columns: `id,region,hardware,backhaul,wave` (required), `cluster`, `location`, `offline`,
//! `workloads` (names separated by `;`), and any number of `label.<key>`, `annotation.<key>` and
//! `upstream_kbps.<workload>` columns. An empty cell means "not set".

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::diagnostic::{Diagnostic, Diagnostics};

use crate::load::{FileEntries, entry_for_csv_site};
use crate::schema;
use crate::source::{SourceLocation, line_col};

pub const REQUIRED_COLUMNS: [&str; 5] = ["id", "region", "hardware", "backhaul", "wave"];
const PLAIN_COLUMNS: [&str; 5] = ["platform", "cluster", "location", "offline", "workloads"];

/// Byte offsets of the cells of the record starting at `start` (quote-aware).
fn cell_offsets(text: &str, start: usize) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut offsets = vec![start];
    let mut in_quotes = false;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => offsets.push(i + 1),
            b'\n' | b'\r' if !in_quotes => break,
            _ => {}
        }
        i += 1;
    }
    offsets
}

fn location(file: &Arc<Path>, text: &str, offset: usize, len: usize) -> SourceLocation {
    located(file, text, (0, 1), offset, len)
}

/// Like [`location`], counting from a known `(byte offset, line)` at a line start, so that
/// locating every cell of a large file stays linear.
fn located(
    file: &Arc<Path>,
    text: &str,
    from: (usize, u32),
    offset: usize,
    len: usize,
) -> SourceLocation {
    let (start, first_line) = from;
    let (line, column) = line_col(&text[start..], offset.saturating_sub(start));
    let line = line + first_line - 1;
    SourceLocation {
        file: file.clone(),
        line,
        column,
        offset,
        len,
    }
}

pub(crate) fn read_csv(path: &Path, text: &str) -> FileEntries {
    let file: Arc<Path> = Arc::from(path);
    let mut diags = Diagnostics::default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return FileEntries::failed(csv_error(&file, text, &e)),
    };
    let header_cells = cell_offsets(text, 0);
    let header_loc = |i: usize| {
        let off = header_cells.get(i).copied().unwrap_or(0);
        location(&file, text, off, headers.get(i).map_or(0, str::len))
    };
    let mut columns: Vec<String> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim().to_owned();
        let known = REQUIRED_COLUMNS.contains(&h.as_str())
            || PLAIN_COLUMNS.contains(&h.as_str())
            || ["label.", "annotation.", "upstream_kbps."]
                .iter()
                .any(|p| h.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
        if !known {
            diags.push(Diagnostic::new(header_loc(i), format!("unknown column `{h}`")).with_help(
                "columns are id, region, hardware, backhaul, wave, platform, cluster, location, offline, workloads, label.<key>, annotation.<key>, upstream_kbps.<workload>",
            ));
        }
        if columns.contains(&h) {
            diags.push(Diagnostic::new(
                header_loc(i),
                format!("column `{h}` appears twice"),
            ));
        }
        columns.push(h);
    }
    for required in REQUIRED_COLUMNS {
        if !columns.iter().any(|c| c == required) {
            diags.push(
                Diagnostic::new(
                    header_loc(0),
                    format!("missing column `{required}` in the header"),
                )
                .with_help(format!(
                    "the header must name at least: {}",
                    REQUIRED_COLUMNS.join(",")
                )),
            );
        }
    }
    if !diags.is_empty() {
        return FileEntries::failed(diags);
    }

    let mut out = FileEntries::empty();
    // The last record's start: (byte offset, line).
    let mut cursor = (0, 1);
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                diags.push(csv_error(&file, text, &e));
                continue;
            }
        };
        // The reader's own line number counts `\n` only; a lone `\r` also ends a record (and a
        // line, as everywhere else edgefleet locates text), so lines are counted here, from the
        // previous record on (linear in the file).
        let start = record.position().map_or(0, |p| p.byte() as usize);
        // After `\r\n` the reader places the next record at the `\n`; a record never starts
        // with a line break, so its cells (and line) are found after any.
        let start = start
            + text.as_bytes()[start.min(text.len())..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        let line = located(&file, text, cursor, start, 0).line;
        cursor = (start, line);
        let offsets = cell_offsets(text, start);
        let row = located(&file, text, (start, line), start, 0);
        let mut cells = BTreeMap::new();
        let mut site = Map::new();
        let mut labels = Map::new();
        let mut annotations = Map::new();
        let mut overrides = Map::new();
        for (i, raw) in record.iter().enumerate() {
            let column = &columns[i];
            let off = offsets.get(i).copied().unwrap_or(start);
            cells.insert(
                column.clone(),
                located(&file, text, (start, line), off, raw.len()),
            );
            let cell = raw.trim();
            if cell.is_empty() {
                continue;
            }
            if let Some(k) = column.strip_prefix("label.") {
                labels.insert(k.to_owned(), Value::String(cell.to_owned()));
            } else if let Some(k) = column.strip_prefix("annotation.") {
                annotations.insert(k.to_owned(), Value::String(cell.to_owned()));
            } else if let Some(w) = column.strip_prefix("upstream_kbps.") {
                let v = cell
                    .parse::<u64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(cell.to_owned()));
                overrides.insert(w.to_owned(), serde_json::json!({ "upstream_kbps": v }));
            } else if column == "workloads" {
                let list: Vec<Value> = cell
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect();
                site.insert("workloads".into(), Value::Array(list));
            } else if column == "offline" {
                let v = match cell.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" => Value::Bool(true),
                    "false" | "no" | "0" => Value::Bool(false),
                    _ => Value::String(cell.to_owned()),
                };
                site.insert("offline".into(), v);
            } else {
                site.insert(column.clone(), Value::String(cell.to_owned()));
            }
        }
        for (key, map) in [
            ("labels", labels),
            ("annotations", annotations),
            ("overrides", overrides),
        ] {
            if !map.is_empty() {
                site.insert(key.into(), Value::Object(map));
            }
        }
        // Validate the row with the same schema as a YAML site, then map errors to cells.
        let doc = serde_json::json!({ "sites": [Value::Object(site.clone())] });
        let violations = schema::check(&doc);
        if !violations.is_empty() {
            for v in violations {
                let field = v.pointer.strip_prefix("/sites/0").unwrap_or(&v.pointer);
                let field = field.strip_prefix('/').unwrap_or(field);
                let column = crate::load::csv_column_for(field);
                let loc = cells.get(&column).cloned().unwrap_or_else(|| row.clone());
                let message = if v.message.starts_with("missing required field") {
                    v.message.replace("field", "value in column")
                } else {
                    v.message
                };
                diags.push(Diagnostic::new(loc, message));
            }
            continue;
        }
        out.push(entry_for_csv_site(
            Value::Object(site),
            row,
            Arc::new(cells),
        ));
    }
    out.diagnostics = diags;
    out
}

fn csv_error(file: &Arc<Path>, text: &str, e: &csv::Error) -> Diagnostic {
    let (offset, message) = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => (
            pos.as_ref().map_or(0, |p| p.byte() as usize),
            format!("this row has {len} cells but the header has {expected_len}"),
        ),
        csv::ErrorKind::Utf8 { pos, err } => (
            pos.as_ref().map_or(0, |p| p.byte() as usize),
            format!("invalid UTF-8 in cell {}", err.field() + 1),
        ),
        _ => (0, format!("invalid CSV: {e}")),
    };
    Diagnostic::new(location(file, text, offset, 0), message)
}
