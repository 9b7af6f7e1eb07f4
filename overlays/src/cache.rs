//! The rerun cache of `generate` (`.edgefleet/cache`): per site, a fingerprint of every input of
//! its files and what `lstat` said about each file right after edgefleet wrote or verified it.
//!
//! A rerun plans a site again only when its fingerprint changed or one of its files no longer
//! looks like what was recorded (docs/generated-tree.md, "Reruns"): a site whose inputs are the
//! same and whose files have the recorded size, modification time, change time and inode is
//! neither templated nor read. The cache is a hint, never the truth about the tree:
//! - it is not part of the generated tree (not in the manifest, ignored by git through
//!   `.edgefleet/.gitignore`), and any doubt means the full path: a missing, unreadable or
//!   malformed cache, another generator build or other plan settings, a site not in it;
//! - it is bound to the manifest of owned files it was written next to (by its digest), so a
//!   manifest edited by hand or rewritten by another run disowns it;
//! - a file changed in the same clock tick as the cache was written cannot be told from the
//!   recorded one by its times ("racily clean", as git calls it): such a file's site is planned
//!   and compared by content, and the cache is written again;
//! - it is written after the tree (and removed before the tree is changed in place), so a crash
//!   leaves no cache or one that describes the files on disk.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use crate::plan::{Declared, Plan, PlanOptions};
use crate::write::Changes;
use edgefleet_inventory::model::id_key;

/// Where the cache is, relative to the output folder.
pub const CACHE: &str = ".edgefleet/cache";
/// Keeps the cache out of the user's repository.
pub const GITIGNORE: &str = ".edgefleet/.gitignore";
const GITIGNORE_TEXT: &str = "# edgefleet generate's rerun cache: not part of the generated tree\ncache\ncache.edgefleet-tmp\n";
const HEADER: &str = "edgefleet generate cache 2";

/// What `lstat` says about a file: size, modification and change times (seconds, nanoseconds)
/// and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub size: u64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
    pub ino: u64,
}

impl FileStat {
    /// The file at `path` if it is a regular file (a link or a folder is not).
    #[cfg(unix)]
    pub fn of(path: &Path) -> Option<FileStat> {
        FileStat::of_metadata(&fs::symlink_metadata(path).ok()?)
    }

    /// The same from metadata already read: `lstat` of a path, or `fstat` of a file just
    /// written (what `lstat` of its path says while nothing changes the file).
    #[cfg(unix)]
    pub fn of_metadata(m: &fs::Metadata) -> Option<FileStat> {
        use std::os::unix::fs::MetadataExt;
        m.file_type().is_file().then(|| FileStat {
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            ino: m.ino(),
        })
    }

    /// Without unix metadata nothing is recorded, so every rerun takes the full path.
    #[cfg(not(unix))]
    pub fn of(_: &Path) -> Option<FileStat> {
        None
    }

    /// [`FileStat::of`] of `path` relative to the open folder `dir` (`fstatat` without following
    /// a last link, as `lstat`); `buffer` holds the path with its terminating NUL.
    #[cfg(unix)]
    pub fn at(dir: &fs::File, path: &str, buffer: &mut Vec<u8>) -> Option<FileStat> {
        use std::os::fd::AsRawFd;
        if path.as_bytes().contains(&0) {
            return None;
        }
        buffer.clear();
        buffer.extend_from_slice(path.as_bytes());
        buffer.push(0);
        let name = std::ffi::CStr::from_bytes_with_nul(buffer).ok()?;
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: `name` is NUL-terminated, `st` is valid for a `stat` to be written into, and
        // `dir`'s descriptor stays open for the call.
        let rc = unsafe {
            libc::fstatat(
                dir.as_raw_fd(),
                name.as_ptr(),
                st.as_mut_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if rc != 0 {
            return None;
        }
        // SAFETY: `fstatat` succeeded, so it filled `st`.
        let st = unsafe { st.assume_init() };
        // The same conversions as `MetadataExt` (which `FileStat::of` reads).
        #[allow(clippy::unnecessary_cast)]
        ((st.st_mode & libc::S_IFMT) == libc::S_IFREG).then_some(FileStat {
            size: st.st_size as u64,
            mtime: (st.st_mtime as i64, st.st_mtime_nsec as i64),
            ctime: (st.st_ctime as i64, st.st_ctime_nsec as i64),
            ino: st.st_ino as u64,
        })
    }

    #[cfg(not(unix))]
    pub fn at(_: &fs::File, _: &str, _: &mut Vec<u8>) -> Option<FileStat> {
        None
    }

    #[cfg(not(unix))]
    pub fn of_metadata(_: &fs::Metadata) -> Option<FileStat> {
        None
    }
}

/// One site of the cache, borrowed from the cache's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteEntry<'a> {
    pub fingerprint: [u8; 32],
    /// What `generate` must know of a site it does not plan again: the outage buffers its
    /// overlays declare, as `workload=MiB` pairs joined by `,` (`-` for none; see
    /// [`SiteEntry::declared`] and [`record_cache`]); no spaces or line breaks.
    pub note: &'a str,
    /// The site's `f` lines (checked when the cache was read).
    lines: &'a str,
    count: usize,
}

impl<'a> SiteEntry<'a> {
    /// The outage buffers (workload, MiB) the site's overlays declared when it was planned, as
    /// [`record_cache`] noted them (a pair that does not read as one is passed over).
    pub fn declared(self) -> impl Iterator<Item = (&'a str, u64)> + 'a {
        self.note.split(',').filter_map(|pair| {
            let (workload, mib) = pair.split_once('=')?;
            Some((workload, mib.parse::<u64>().ok()?))
        })
    }

    /// The site's files (paths relative to the output folder) and what `lstat` said of each,
    /// in plan order.
    pub fn files(self) -> impl Iterator<Item = (&'a str, FileStat)> + 'a {
        self.lines.lines().filter_map(file_line)
    }

    /// The site's files' paths, in plan order (without reading the numbers again).
    pub fn paths(self) -> impl Iterator<Item = &'a str> + 'a {
        // `f` and six numbers, each followed by a space, then the path (checked when read).
        self.lines
            .lines()
            .filter_map(|line| line.splitn(8, ' ').nth(7))
    }

    /// How many files the site has.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// A site of the cache as owned values: id, fingerprint, note, files.
#[cfg(test)]
pub(crate) type OwnedSite = (String, [u8; 32], String, Vec<(String, FileStat)>);

/// Where one site's lines are in the cache's text.
#[derive(Debug, Clone)]
struct SiteSpan {
    /// The first bytes of the id ([`id_key`]): most look-ups compare these alone, without
    /// reading the text (tens of megabytes at 100,000 sites).
    key: u128,
    id: std::ops::Range<usize>,
    fingerprint: [u8; 32],
    note: std::ops::Range<usize>,
    lines: std::ops::Range<usize>,
    count: usize,
}

/// The cache of one output folder: its text, read once, and where each site's lines are in it
/// (a 100,000-site fleet's cache lists about half a million files; they are not copied).
#[derive(Debug, Clone, Default)]
pub struct Cache {
    /// The generator build and plan settings it was written with.
    pub identity: [u8; 32],
    /// The digest of the manifest of owned files it was written next to: a manifest edited,
    /// corrupted or written by another run since makes the cache untrusted.
    pub manifest: [u8; 32],
    text: String,
    /// By site id, each once.
    sites: Vec<SiteSpan>,
    /// When the cache file was last modified: a file whose times are not older is "racy".
    written: (i64, i64),
    /// What the whole run that wrote the cache recorded ([`RunRecord`]).
    run: RunSpans,
    /// The output folder, open ([`Cache::read`]): [`Cache::is_fresh`] looks at each file
    /// relative to it, as the unchanged check does, not by its whole path.
    dir: Option<std::sync::Arc<fs::File>>,
}

/// The whole run's part of the cache: the digest of its inputs ([`crate::inputs`]; none when
/// it could not be trusted), its counts, its warnings and its fleet-wide files' `lstat`.
#[derive(Debug, Clone, Default)]
struct RunSpans {
    inputs: Option<[u8; 32]>,
    counts: RunCounts,
    warnings: Vec<std::ops::Range<usize>>,
    fleet: std::ops::Range<usize>,
    fleet_count: usize,
    /// Where the sites' lines start (the text before is the header).
    head_end: usize,
}

/// What a plan held: sites, overlays, ApplicationSets (as `generate` prints them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub sites: usize,
    pub overlays: usize,
    pub appsets: usize,
}

/// Whether the file at `path` (in `out`) is as recorded in `stat`: still regular, with the
/// recorded size, times and inode, its times older than the cache (written at `written`).
fn looks_written(out: &Path, path: &str, stat: FileStat, written: (i64, i64)) -> bool {
    stat.mtime < written && stat.ctime < written && FileStat::of(&out.join(path)) == Some(stat)
}

/// [`looks_written`] of `path` relative to the open folder `dir` (the output folder): the same
/// `lstat`, without the kernel walking the folder's own path again for every file (half the
/// components of a typical path).
fn looks_written_at(
    dir: &fs::File,
    path: &str,
    stat: FileStat,
    written: (i64, i64),
    buffer: &mut Vec<u8>,
) -> bool {
    stat.mtime < written && stat.ctime < written && FileStat::at(dir, path, buffer) == Some(stat)
}

/// A `site` line after its keyword: id, fingerprint, note.
fn site_line(rest: &str) -> Option<(&str, [u8; 32], &str)> {
    let mut parts = rest.split(' ');
    let (Some(id), Some(fp), Some(note), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some((id, unhex(fp)?, note))
}

/// The lines of a cache before its files: format, identity, manifest digest, and what the whole
/// run recorded, up to the `fleet` line.
struct Head<'t> {
    identity: [u8; 32],
    manifest: [u8; 32],
    inputs: Option<[u8; 32]>,
    counts: RunCounts,
    warnings: Vec<&'t str>,
    /// The `fleet` line itself (the fleet-wide files follow it).
    fleet: &'t str,
}

impl<'t> Head<'t> {
    fn read(lines: &mut impl Iterator<Item = &'t str>) -> Option<Head<'t>> {
        if lines.next()? != HEADER {
            return None;
        }
        let identity = unhex(lines.next()?.strip_prefix("identity ")?)?;
        let manifest = unhex(lines.next()?.strip_prefix("manifest ")?)?;
        let inputs = match lines.next()?.strip_prefix("inputs ")? {
            "-" => None,
            hex => Some(unhex(hex)?),
        };
        let counts: Vec<usize> = lines
            .next()?
            .strip_prefix("counts ")?
            .split(' ')
            .map(|n| n.parse().ok())
            .collect::<Option<_>>()?;
        let [sites, overlays, appsets] = counts[..] else {
            return None;
        };
        let mut warnings = Vec::new();
        loop {
            let line = lines.next()?;
            if let Some(warning) = line.strip_prefix("warning ") {
                warnings.push(warning);
            } else if line == "fleet" {
                return Some(Head {
                    identity,
                    manifest,
                    inputs,
                    counts: RunCounts {
                        sites,
                        overlays,
                        appsets,
                    },
                    warnings,
                    fleet: line,
                });
            } else {
                return None;
            }
        }
    }
}

/// When the whole run that wrote the cache of `out` had the generator `identity` and the inputs
/// `inputs` ([`crate::inputs::stamp`]), was written next to the manifest there now, planned
/// every site of its fleet, and every file it recorded (fleet-wide and each site's) still looks
/// as written: what that run planned and warned about. Then the plan would be the same and so
/// would the files, so a rerun has nothing to do.
///
/// Reads the cache in pieces (its lines are checked as [`Cache::read`] checks them; a cache whose
/// sites are not in id order is not vouched for here) and `lstat`s each file it lists, in
/// parallel, stopping at the first that changed; reads no generated file. Nothing of the cache
/// is kept: a 100,000-site fleet's is about 64 MB.
pub fn unchanged_run(out: &Path, identity: &[u8; 32], inputs: &[u8; 32]) -> Option<UnchangedRun> {
    use std::io::Read as _;
    const PIECE: usize = 4 << 20;
    let path = out.join(CACHE);
    let written = FileStat::of(&path)?.mtime;
    let mut file = fs::File::open(&path).ok()?;
    let dir = fs::File::open(out).ok()?;
    let mut buffer: Vec<u8> = Vec::with_capacity(PIECE);
    let mut read_more = |buffer: &mut Vec<u8>| -> Option<usize> {
        let start = buffer.len();
        buffer.resize(start + PIECE, 0);
        let n = loop {
            match file.read(&mut buffer[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        };
        buffer.truncate(start + n);
        Some(n)
    };
    // The head, read whole first (a few lines; the fleet-wide files come after it).
    let (run, mut prefix) = loop {
        let more = read_more(&mut buffer)?;
        // The text up to the first byte that is not UTF-8 (the piece may end inside a
        // character; an invalid byte in the head leaves it unread, below).
        let text = match std::str::from_utf8(&buffer) {
            Ok(text) => Some(text),
            Err(e) => std::str::from_utf8(&buffer[..e.valid_up_to()]).ok(),
        };
        let head = text.and_then(|text| {
            let mut lines = text.split('\n');
            let head = Head::read(&mut lines)?;
            let end = head.fleet.as_ptr() as usize - text.as_ptr() as usize + head.fleet.len();
            // The `fleet` line must be whole (its line break read).
            (end < text.len()).then_some((head, end + 1))
        });
        if let Some((head, end)) = head {
            if head.identity != *identity || head.inputs.as_ref() != Some(inputs) {
                return None;
            }
            let run = UnchangedRun {
                counts: head.counts,
                files: 0,
                warnings: head.warnings.iter().map(|w| (*w).to_owned()).collect(),
            };
            if Some(head.manifest) != manifest_digest(out) {
                return None;
            }
            break (run, end);
        }
        // No head in the lines read (another format, a malformed head: a head is a few lines
        // and at most 22 warnings), or the file ended: not vouched for.
        if more == 0 || buffer.iter().filter(|&&b| b == b'\n').count() > 64 {
            return None;
        }
    };
    let mut run = run;
    let mut sites = 0usize;
    let mut last_id: Option<String> = None;
    let mut ended = false;
    loop {
        // The whole lines of what was read, checked in parallel.
        let whole = buffer[prefix..].iter().rposition(|&b| b == b'\n');
        if let Some(at) = whole {
            let text = std::str::from_utf8(&buffer[prefix..prefix + at + 1]).ok()?;
            if ended {
                return None;
            }
            let mut body = &text[..text.len() - 1];
            if let Some(rest) = body.strip_suffix("end")
                && (rest.is_empty() || rest.ends_with('\n'))
            {
                body = rest.strip_suffix('\n').unwrap_or(rest);
                ended = true;
            }
            let part = check_lines(&dir, body, written)?;
            if let (Some(last), Some(first)) = (&last_id, part.first)
                && last.as_str() >= first
            {
                return None;
            }
            if let Some(last) = part.last {
                last_id = Some(last.to_owned());
            }
            sites += part.sites;
            run.files += part.files;
            prefix += at + 1;
        }
        buffer.drain(..prefix);
        prefix = 0;
        if read_more(&mut buffer)? == 0 {
            break;
        }
    }
    // A cache cut short (a full disk), or with lines after its end, is not vouched for.
    (ended && buffer.is_empty() && sites == run.counts.sites).then_some(run)
}

/// What [`check_lines`] found in some lines of a cache's body.
#[derive(Default)]
struct LinesPart<'a> {
    /// The first and last site ids (in id order within the lines).
    first: Option<&'a str>,
    last: Option<&'a str>,
    sites: usize,
    files: usize,
}

/// Checks `lines` (whole `site` and `f` lines of a cache's body, the last without its line
/// break): every line as written, sites in id order, every file (relative to the output folder
/// `dir`) looking as written. In
/// parallel, in pieces of whole lines; `None` at the first that is not.
fn check_lines<'a>(dir: &fs::File, lines: &'a str, written: (i64, i64)) -> Option<LinesPart<'a>> {
    use rayon::prelude::*;
    if lines.is_empty() {
        return Some(LinesPart::default());
    }
    // Pieces of about 64 KiB, cut after a line break.
    let mut pieces = Vec::new();
    let mut rest = lines;
    while !rest.is_empty() {
        let cut = match rest.get(64 << 10..).and_then(|tail| tail.find('\n')) {
            Some(i) => (64 << 10) + i,
            None => rest.len(),
        };
        pieces.push(&rest[..cut]);
        rest = rest.get(cut + 1..).unwrap_or("");
    }
    let parts: Vec<Option<LinesPart<'a>>> = pieces
        .par_iter()
        .map(|piece| {
            let mut part = LinesPart::default();
            let mut buffer = Vec::with_capacity(256);
            for line in piece.split('\n') {
                if let Some(rest) = line.strip_prefix("site ") {
                    let (id, _, _) = site_line(rest)?;
                    if part.last.is_some_and(|last| last >= id) {
                        return None;
                    }
                    part.first = part.first.or(Some(id));
                    part.last = Some(id);
                    part.sites += 1;
                } else {
                    let (path, stat) = file_line(line)?;
                    if !looks_written_at(dir, path, stat, written, &mut buffer) {
                        return None;
                    }
                    part.files += 1;
                }
            }
            Some(part)
        })
        .collect();
    let mut all = LinesPart::default();
    for part in parts {
        let part = part?;
        if let (Some(last), Some(first)) = (all.last, part.first)
            && last >= first
        {
            return None;
        }
        all.first = all.first.or(part.first);
        all.last = part.last.or(all.last);
        all.sites += part.sites;
        all.files += part.files;
    }
    Some(all)
}

/// What a whole run (no shard) records beside its sites, for a rerun whose inputs did not
/// change ([`unchanged_run`]).
#[derive(Debug, Clone, Copy)]
pub struct RunRecord<'a> {
    /// The digest of the run's inputs ([`crate::inputs::stamp`]) when they were settled and
    /// the same at the end of the run as at its start; `None` otherwise.
    pub inputs: Option<[u8; 32]>,
    /// The warnings the run printed about its plan, one line each, in order.
    pub warnings: &'a [String],
}

/// A rerun with nothing to do ([`unchanged_run`]): what the run that wrote the cache planned
/// and warned about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnchangedRun {
    pub counts: RunCounts,
    /// Every generated file (fleet-wide and the sites').
    pub files: usize,
    pub warnings: Vec<String>,
}

/// SHA-256 of length-prefixed parts (no two part lists give the same bytes).
pub fn digest(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// The digest of the manifest of owned files in `out` (`None` when it cannot be read): the
/// [`digest`] of its bytes, read in pieces (a fleet's manifest is tens of megabytes).
pub fn manifest_digest(out: &Path) -> Option<[u8; 32]> {
    use sha2::{Digest, Sha256};
    use std::io::Read as _;
    let mut file = fs::File::open(out.join(crate::write::MANIFEST)).ok()?;
    let len = file.metadata().ok()?.len();
    let mut h = Sha256::new();
    h.update(len.to_le_bytes());
    let mut buffer = vec![0u8; 1 << 16];
    let mut read = 0u64;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                h.update(&buffer[..n]);
                read += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    // A manifest that changed length while it was read is not the one the cache was written
    // next to.
    (read == len).then(|| h.finalize().into())
}

fn hex(bytes: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(64);
    for b in bytes {
        text.push(char::from(DIGITS[usize::from(b >> 4)]));
        text.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    text
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// One `f SIZE MTIME_S MTIME_NS CTIME_S CTIME_NS INO PATH` line: its path and stat; `None` when
/// it is not one (a bad number, a path leaving the folder).
fn file_line(line: &str) -> Option<(&str, FileStat)> {
    let mut parts = line.strip_prefix("f ")?.splitn(7, ' ');
    let mut num = || parts.next()?.parse::<i64>().ok();
    let (size, ms, mn, cs, cn, ino) = (num()?, num()?, num()?, num()?, num()?, num()?);
    let path = parts.next()?;
    if !crate::tree::is_safe_relative(path) || size < 0 || ino < 0 {
        return None;
    }
    let stat = FileStat {
        size: size as u64,
        mtime: (ms, mn),
        ctime: (cs, cn),
        ino: ino as u64,
    };
    Some((path, stat))
}

impl Cache {
    /// A cache of no site and no recorded run (for tests: [`Cache::insert`] adds sites).
    #[cfg(test)]
    pub(crate) fn new(identity: [u8; 32], manifest: [u8; 32]) -> Cache {
        let mut text = header(&identity, &manifest);
        text.push_str("inputs -\ncounts 0 0 0\nfleet\n");
        text.push_str(END);
        match Cache::parse(text, (0, 0)) {
            Some(cache) => cache,
            None => unreachable!("an empty cache reads back"),
        }
    }

    /// The cache of `out` when it was written with `identity` next to the manifest there
    /// now; `None` when there is none or it cannot be trusted (unreadable, malformed, another
    /// identity, another manifest).
    pub fn read(out: &Path, identity: &[u8; 32]) -> Option<Cache> {
        let path = out.join(CACHE);
        let written = FileStat::of(&path)?.mtime;
        let text = fs::read_to_string(&path).ok()?;
        let mut cache = Cache::parse(text, written)?;
        cache.dir = fs::File::open(out).ok().map(std::sync::Arc::new);
        (cache.identity == *identity && Some(cache.manifest) == manifest_digest(out))
            .then_some(cache)
    }

    /// Checks every line of `text` and notes where each site's lines are; `None` when a line
    /// is not as [`Cache::write`] writes it or a site appears twice.
    fn parse(text: String, written: (i64, i64)) -> Option<Cache> {
        let mut lines = text.lines();
        let at = |part: &str| {
            let start = part.as_ptr() as usize - text.as_ptr() as usize;
            start..start + part.len()
        };
        let head = Head::read(&mut lines)?;
        let (identity, manifest) = (head.identity, head.manifest);
        let mut run = RunSpans {
            inputs: head.inputs,
            counts: head.counts,
            warnings: head.warnings.iter().map(|w| at(w)).collect(),
            fleet: at(head.fleet).end..at(head.fleet).end,
            fleet_count: 0,
            head_end: at(head.fleet).end,
        };
        let mut sites: Vec<SiteSpan> = Vec::new();
        let mut ended = false;
        for line in lines {
            if ended {
                return None;
            }
            if line == "end" {
                ended = true;
            } else if let Some(rest) = line.strip_prefix("site ") {
                let (id, fingerprint, note) = site_line(rest)?;
                let after = at(line).end;
                sites.push(SiteSpan {
                    key: id_key(id),
                    id: at(id),
                    fingerprint,
                    note: at(note),
                    lines: after..after,
                    count: 0,
                });
            } else if file_line(line).is_some() && sites.is_empty() {
                // The fleet-wide files come before the first site.
                if run.fleet_count == 0 {
                    run.fleet.start = at(line).start;
                }
                run.fleet.end = at(line).end;
                run.fleet_count += 1;
                run.head_end = at(line).end;
            } else if file_line(line).is_some() {
                let site = sites.last_mut()?;
                if site.count == 0 {
                    site.lines.start = at(line).start;
                }
                site.lines.end = at(line).end;
                site.count += 1;
            } else {
                return None;
            }
        }
        // A cache cut short (a full disk) is not trusted.
        if !ended {
            return None;
        }
        // Written in id order; a cache put in another order is sorted, and one naming a site
        // twice is not trusted.
        let id = |s: &SiteSpan| &text[s.id.clone()];
        if !sites.is_sorted_by(|a, b| id(a) < id(b)) {
            sites.sort_unstable_by(|a, b| id(a).cmp(id(b)));
            if sites.windows(2).any(|w| id(&w[0]) == id(&w[1])) {
                return None;
            }
        }
        Some(Cache {
            identity,
            manifest,
            text,
            sites,
            written,
            run,
            dir: None,
        })
    }

    /// How many sites the cache lists.
    pub fn len(&self) -> usize {
        self.sites.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// Site `id`'s entry.
    pub fn site(&self, id: &str) -> Option<SiteEntry<'_>> {
        let key = id_key(id);
        let i = self
            .sites
            .binary_search_by(|s| {
                s.key
                    .cmp(&key)
                    .then_with(|| self.text[s.id.clone()].cmp(id))
            })
            .ok()?;
        Some(self.entry(&self.sites[i]))
    }

    fn entry(&self, span: &SiteSpan) -> SiteEntry<'_> {
        SiteEntry {
            fingerprint: span.fingerprint,
            note: &self.text[span.note.clone()],
            lines: &self.text[span.lines.clone()],
            count: span.count,
        }
    }

    /// Every site, in id order.
    pub fn sites(&self) -> impl Iterator<Item = (&str, SiteEntry<'_>)> {
        self.sites
            .iter()
            .map(|s| (&self.text[s.id.clone()], self.entry(s)))
    }

    /// Every site as owned values (for tests).
    #[cfg(test)]
    pub(crate) fn owned_sites(&self) -> Vec<OwnedSite> {
        self.sites()
            .map(|(id, e)| {
                let files = e.files().map(|(p, s)| (p.to_owned(), s)).collect();
                (id.to_owned(), e.fingerprint, e.note.to_owned(), files)
            })
            .collect()
    }

    /// Adds (or replaces) site `id` with its `note` and `files` (for tests: it writes the whole
    /// text again); `None` when they cannot be written as cache lines (an id or note with a
    /// space or line break, an unsafe path).
    #[cfg(test)]
    pub(crate) fn insert(
        &mut self,
        id: &str,
        fingerprint: [u8; 32],
        note: &str,
        files: &[(&str, FileStat)],
    ) -> Option<()> {
        let mut sites = self.owned_sites();
        sites.retain(|(other, ..)| other != id);
        let files = files.iter().map(|(p, s)| ((*p).to_owned(), *s)).collect();
        sites.push((id.to_owned(), fingerprint, note.to_owned(), files));
        sites.sort_by(|a, b| a.0.cmp(&b.0));
        // The header and fleet-wide lines as they were (up to the line break after them).
        let head_end = self.text[self.run.head_end..]
            .find('\n')
            .map_or(self.text.len(), |i| self.run.head_end + i + 1);
        let mut text = self.text[..head_end].to_owned();
        for (id, fingerprint, note, files) in &sites {
            let files = files.iter().map(|(p, s)| (p.as_str(), *s));
            site_lines(&mut text, id, fingerprint, note, files);
        }
        text.push_str(END);
        *self = Cache::parse(text, self.written)?;
        Some(())
    }

    /// Whether site `id`'s files are those recorded for `fingerprint`: the same fingerprint, the
    /// same paths, and every file still regular with the recorded size, times and inode, its
    /// times older than the cache itself. `lstat`s each file (relative to the output folder
    /// opened when the cache was read); reads none.
    pub fn is_fresh(&self, out: &Path, id: &str, fingerprint: &[u8; 32], paths: &[String]) -> bool {
        let Some(entry) = self.site(id) else {
            return false;
        };
        if entry.fingerprint != *fingerprint || entry.len() != paths.len() {
            return false;
        }
        let mut buffer = Vec::new();
        entry.files().zip(paths).all(|((path, stat), want)| {
            path == want
                && match &self.dir {
                    Some(dir) => looks_written_at(dir, path, stat, self.written, &mut buffer),
                    None => self.looks_written(out, path, stat),
                }
        })
    }

    /// Whether the file at `path` (in `out`) is as recorded in `stat` ([`looks_written`]).
    fn looks_written(&self, out: &Path, path: &str, stat: FileStat) -> bool {
        looks_written(out, path, stat, self.written)
    }

    /// The fleet-wide files the whole run recorded, and what `lstat` said of each.
    fn fleet_files(&self) -> impl Iterator<Item = (&str, FileStat)> {
        self.text[self.run.fleet.clone()]
            .lines()
            .filter_map(file_line)
    }

    /// The files of the sites of `records` that were kept ([`crate::plan::SiteRecord::kept`]:
    /// [`Cache::is_fresh`] vouched for them, so they are the files this cache lists), sorted.
    pub fn kept_paths(&self, records: &[crate::plan::SiteRecord]) -> Vec<&str> {
        crate::plan::sorted_by_site(
            records
                .iter()
                .filter(|r| r.kept)
                .filter_map(|r| self.site(&r.id))
                .map(|e| e.paths()),
        )
    }

    /// The cache as text.
    #[cfg(test)]
    fn text(&self) -> &str {
        &self.text
    }

    /// Removes the cache of `out` (before the tree is changed in place).
    pub fn remove(out: &Path) -> std::io::Result<()> {
        match fs::remove_file(out.join(CACHE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// What the rerun cache is valid for: this edgefleet build (its version and executable file)
/// and the plan settings.
pub fn generator_identity(options: &PlanOptions) -> [u8; 32] {
    let exe = std::env::current_exe()
        .and_then(fs::metadata)
        .map(|m| format!("{} {:?}", m.len(), m.modified().ok()))
        .unwrap_or_default();
    digest(&[
        env!("CARGO_PKG_VERSION").as_bytes(),
        exe.as_bytes(),
        format!("{options:?}").as_bytes(),
    ])
}

/// Writes the rerun cache of `out` after a successful write: every site's fingerprint, the
/// outage buffers it declares (from `declared`, as its note) and what `lstat` says about its
/// files now (or, for files a fresh write wrote while planning, what `fstat` said right after
/// writing them, which is the same: [`crate::plan::SiteRecord::written`]). A site whose files cannot all be stat'ed is left out (the next
/// run plans it). Nothing is written when nothing changed: no file written, every site taken
/// from the cache, no site gone.
pub fn record_cache(
    out: &Path,
    identity: [u8; 32],
    planned: &Plan,
    changes: &Changes,
    cache: Option<&Cache>,
    declared: &Declared,
    run: RunRecord<'_>,
) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let wrote = changes.writes();
    // The fleet-wide files as they are now (a few hundred at most).
    let fleet: Option<Vec<(&str, FileStat)>> = planned
        .fleet_paths
        .iter()
        .map(|p| Some((p.as_str(), FileStat::of(&out.join(p))?)))
        .collect();
    let counts = RunCounts {
        sites: planned.sites,
        overlays: planned.overlays,
        appsets: planned.appsets,
    };
    let same = cache.is_some_and(|c| {
        c.len() == planned.records.len()
            && c.run.inputs == run.inputs
            && c.run.counts == counts
            && c.run.warnings.len() == run.warnings.len()
            && c.run
                .warnings
                .iter()
                .zip(run.warnings)
                .all(|(at, w)| c.text[at.clone()] == **w)
            && fleet.as_ref().is_some_and(|now| {
                c.fleet_files().eq(now.iter().copied())
                    && now
                        .iter()
                        .all(|(_, s)| s.mtime < c.written && s.ctime < c.written)
            })
    }) && planned.records.iter().all(|r| r.kept);
    if !wrote && same {
        return Ok(());
    }
    // Whether every site and fleet-wide file is recorded: only then can a rerun vouch for the
    // whole tree from the cache alone.
    let complete = AtomicBool::new(fleet.is_some());
    let notes: HashMap<&str, Vec<String>> = declared
        .iter()
        .map(|(site, workloads)| {
            let mut list: Vec<String> = workloads
                .iter()
                .map(|(workload, mib)| format!("{workload}={mib}"))
                .collect();
            list.sort();
            (site.as_str(), list)
        })
        .collect();
    let Some(manifest) = manifest_digest(out) else {
        return Ok(());
    };
    // Each site's lines straight from its record (no second copy of every path), sites in id
    // order.
    let mut records: Vec<&crate::plan::SiteRecord> = planned.records.iter().collect();
    records.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let chunks = in_chunks(&records, |chunk, r| {
        let note = notes
            .get(r.id.as_str())
            .map_or_else(|| "-".to_owned(), |list| list.join(","));
        // A kept site's files are those the cache lists (its record holds none).
        if let Some(entry) = cache.and_then(|c| c.site(&r.id)).filter(|_| r.kept) {
            // Writing the tree (hard links into a staging folder) changes every file's change
            // time: after a write every file is looked at again.
            if !wrote {
                site_lines(chunk, &r.id, &r.fingerprint, &note, entry.files());
                return;
            }
            let files: Option<Vec<(&str, FileStat)>> = entry
                .files()
                .map(|(p, _)| Some((p, FileStat::of(&out.join(p))?)))
                .collect();
            // A site whose files cannot all be stat'ed is left out: the next run plans it.
            match files {
                Some(files) => site_lines(chunk, &r.id, &r.fingerprint, &note, files.into_iter()),
                None => complete.store(false, Ordering::Relaxed),
            }
            return;
        }
        let stats: Option<Vec<FileStat>> = r
            .paths
            .iter()
            .enumerate()
            .map(|(i, p)| match &r.written {
                Some(written) => written[i],
                None => FileStat::of(&out.join(p)),
            })
            .collect();
        match stats {
            Some(stats) => {
                let files = r.paths.iter().map(String::as_str).zip(stats);
                site_lines(chunk, &r.id, &r.fingerprint, &note, files);
            }
            None => complete.store(false, Ordering::Relaxed),
        }
    });
    let mut head = header(&identity, &manifest);
    let inputs = run.inputs.filter(|_| {
        complete.load(Ordering::Relaxed)
            && records.len() == planned.sites
            && run.warnings.iter().all(|w| !w.contains(['\n', '\r']))
    });
    head.push_str("inputs ");
    head.push_str(&inputs.as_ref().map_or_else(|| "-".to_owned(), hex));
    head.push_str("\ncounts ");
    for (i, n) in [counts.sites, counts.overlays, counts.appsets]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            head.push(' ');
        }
        push_decimal(&mut head, n as i128);
    }
    head.push('\n');
    // A warning is one line (one with a line break leaves the inputs unrecorded, above).
    for w in run.warnings.iter().filter(|w| !w.contains(['\n', '\r'])) {
        head.push_str("warning ");
        head.push_str(w);
        head.push('\n');
    }
    head.push_str("fleet\n");
    let fleet_lines = fleet.filter(|_| inputs.is_some()).unwrap_or_default();
    file_lines(&mut head, fleet_lines.into_iter());
    write_text(out, &head, &chunks)
}

/// The cache's last line: a cache cut short (a full disk) has none and is not trusted.
const END: &str = "end\n";

/// The cache's first lines: the format, the generator identity and the manifest digest.
fn header(identity: &[u8; 32], manifest: &[u8; 32]) -> String {
    let mut text = String::with_capacity(HEADER.len() + 160);
    text.push_str(HEADER);
    text.push('\n');
    text.push_str("identity ");
    text.push_str(&hex(identity));
    text.push_str("\nmanifest ");
    text.push_str(&hex(manifest));
    text.push('\n');
    text
}

/// `lines(chunk, item)` for every item, in order, into chunks of text made in parallel.
fn in_chunks<T: Sync>(items: &[T], lines: impl Fn(&mut String, &T) + Sync) -> Vec<String> {
    use rayon::prelude::*;
    items
        .par_chunks(256)
        .map(|items| {
            let mut chunk = String::new();
            for item in items {
                lines(&mut chunk, item);
            }
            chunk
        })
        .collect()
}

/// The lines of one site: `site ID FINGERPRINT NOTE`, then `f SIZE MTIME CTIME INO PATH` per
/// file (times as seconds and nanoseconds).
fn site_lines<'a>(
    text: &mut String,
    id: &str,
    fingerprint: &[u8; 32],
    note: &str,
    files: impl Iterator<Item = (&'a str, FileStat)>,
) {
    for part in ["site ", id, " ", &hex(fingerprint), " ", note, "\n"] {
        text.push_str(part);
    }
    file_lines(text, files);
}

/// An `f SIZE MTIME CTIME INO PATH` line per file.
fn file_lines<'a>(text: &mut String, files: impl Iterator<Item = (&'a str, FileStat)>) {
    for (path, s) in files {
        text.push('f');
        for n in [
            i128::from(s.size),
            i128::from(s.mtime.0),
            i128::from(s.mtime.1),
            i128::from(s.ctime.0),
            i128::from(s.ctime.1),
            i128::from(s.ino),
        ] {
            text.push(' ');
            push_decimal(text, n);
        }
        text.push(' ');
        text.push_str(path);
        text.push('\n');
    }
}

/// Writes a cache of `header`, `chunks` and the end line into `out` (atomically: a temporary
/// file renamed over the old one) and `.edgefleet/.gitignore` when it is missing. A failure
/// leaves no cache.
fn write_text(out: &Path, header: &str, chunks: &[String]) -> std::io::Result<()> {
    use std::io::Write as _;
    let path = out.join(CACHE);
    let dir = out.join(".edgefleet");
    fs::create_dir_all(&dir)?;
    let ignore = out.join(GITIGNORE);
    if fs::symlink_metadata(&ignore).is_err() {
        fs::write(&ignore, GITIGNORE_TEXT)?;
    }
    let tmp = dir.join("cache.edgefleet-tmp");
    let result = fs::File::create(&tmp)
        .and_then(|mut file| {
            file.write_all(header.as_bytes())?;
            for chunk in chunks {
                file.write_all(chunk.as_bytes())?;
            }
            file.write_all(END.as_bytes())
        })
        .and_then(|()| fs::rename(&tmp, &path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        let _ = fs::remove_file(&path);
    }
    result
}

/// `n` in decimal, as `{n}` prints it (without the formatting machinery: the cache has a line
/// per generated file).
fn push_decimal(text: &mut String, n: i128) {
    if n < 0 {
        text.push('-');
    }
    let mut n = n.unsigned_abs();
    let mut digits = [0u8; 40];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        text.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_format_writes_them() {
        for n in [
            0i128,
            1,
            9,
            10,
            -1,
            -10,
            1_796_630_258,
            i128::from(i64::MIN),
            i128::from(i64::MAX),
            i128::from(u64::MAX),
        ] {
            let mut text = String::new();
            push_decimal(&mut text, n);
            assert_eq!(text, n.to_string());
        }
        let bytes: [u8; 32] = std::array::from_fn(|i| (i as u8) * 37 + 5);
        let by_format: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&bytes), by_format);
        assert_eq!(unhex(&by_format), Some(bytes));
    }

    /// A run that recorded no inputs.
    const NO_RUN: RunRecord<'static> = RunRecord {
        inputs: None,
        warnings: &[],
    };

    const STAT: FileStat = FileStat {
        size: 10,
        mtime: (5, 6),
        ctime: (7, 8),
        ino: 9,
    };

    fn sample() -> Cache {
        let mut c = Cache::new([7; 32], [3; 32]);
        c.insert("s1", [1; 32], "-", &[("sites/r/s1/site.json", STAT)])
            .unwrap();
        c
    }

    #[cfg(unix)]
    #[test]
    fn a_file_is_fresh_only_as_recorded_and_older_than_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let rel = "sites/r/s/site.json".to_owned();
        fs::create_dir_all(dir.path().join("sites/r/s")).unwrap();
        fs::write(dir.path().join(&rel), "{}\n").unwrap();
        let stat = FileStat::of(&dir.path().join(&rel)).unwrap();
        let mut cache = Cache::new([0; 32], [0; 32]);
        cache.insert("s", [1; 32], "-", &[(&rel, stat)]).unwrap();
        let paths = vec![rel.clone()];
        let later = (stat.ctime.0.max(stat.mtime.0) + 1, 0);
        cache.written = later;
        assert!(cache.is_fresh(dir.path(), "s", &[1; 32], &paths));
        // Another fingerprint, other paths, an unknown site.
        assert!(!cache.is_fresh(dir.path(), "s", &[2; 32], &paths));
        assert!(!cache.is_fresh(dir.path(), "s", &[1; 32], &["x".to_owned()]));
        assert!(!cache.is_fresh(dir.path(), "t", &[1; 32], &paths));
        // Racily clean: written in the tick of the cache itself.
        cache.written = stat.ctime.max(stat.mtime);
        assert!(!cache.is_fresh(dir.path(), "s", &[1; 32], &paths));
        cache.written = later;
        // Edited in place with the same size and the modification time set back.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let file = fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join(&rel))
            .unwrap();
        std::io::Write::write_all(&mut &file, b"[]\n").unwrap();
        file.set_modified(
            std::time::UNIX_EPOCH
                + std::time::Duration::new(stat.mtime.0 as u64, stat.mtime.1 as u32),
        )
        .unwrap();
        let now = FileStat::of(&dir.path().join(&rel)).unwrap();
        assert_eq!(
            (now.size, now.mtime, now.ino),
            (stat.size, stat.mtime, stat.ino)
        );
        assert!(!cache.is_fresh(dir.path(), "s", &[1; 32], &paths));
        // Deleted.
        fs::remove_file(dir.path().join(&rel)).unwrap();
        assert!(!cache.is_fresh(dir.path(), "s", &[1; 32], &paths));
    }

    #[cfg(unix)]
    #[test]
    fn a_stat_relative_to_the_folder_is_the_stat_of_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("sites/r/s")).unwrap();
        fs::write(root.join("sites/r/s/site.json"), "{}\n").unwrap();
        std::os::unix::fs::symlink("site.json", root.join("sites/r/s/link.json")).unwrap();
        let folder = fs::File::open(root).unwrap();
        let mut buffer = Vec::new();
        for path in [
            "sites/r/s/site.json",
            "sites/r/s/link.json",
            "sites/r/s",
            "sites/r/s/missing.json",
            "sites/r/s/site.json/x",
            "nul\0in/the/path",
        ] {
            let at = FileStat::at(&folder, path, &mut buffer);
            let of = FileStat::of(&root.join(path));
            assert_eq!(at, of, "{path}");
            assert_eq!(at.is_some(), path == "sites/r/s/site.json", "{path}");
        }
    }

    #[test]
    fn text_round_trip_and_corruption() {
        let mut c = sample();
        let other = FileStat { size: 0, ..STAT };
        let files = [("sites/r/s0/a.yaml", STAT), ("sites/r/s0/b.yaml", other)];
        c.insert("s0", [2; 32], "w=1", &files).unwrap();
        c.insert("s2", [3; 32], "-", &[]).unwrap();
        let text = c.text().to_owned();
        let back = Cache::parse(text.clone(), (0, 0)).unwrap();
        assert_eq!((back.identity, back.manifest), (c.identity, c.manifest));
        let sites = Cache::owned_sites(&back);
        assert_eq!(sites, Cache::owned_sites(&c));
        let ids: Vec<&str> = sites.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(ids, ["s0", "s1", "s2"]);
        assert_eq!(sites[0].3, files.map(|(p, s)| (p.to_owned(), s)));
        assert_eq!(back.site("s0").map(|e| e.len()), Some(2));
        let s0 = back.site("s0").unwrap();
        assert!(s0.paths().eq(s0.files().map(|(p, _)| p)));
        assert_eq!(back.site("s2").map(|e| e.is_empty()), Some(true));
        assert!(back.site("s").is_none() && back.site("s3").is_none());
        // Sites in another order read the same.
        let s0 = &text[text.find("site s0").unwrap()..text.find("site s1").unwrap()];
        let reordered = text.replace(s0, "").replace("end\n", &format!("{s0}end\n"));
        assert_ne!(reordered, text);
        assert_eq!(
            Cache::owned_sites(&Cache::parse(reordered, (0, 0)).unwrap()),
            sites
        );
        // Cut short, an unknown line, a bad number, a path leaving the folder, a file in the
        // header, a header line missing or malformed, a site twice: not trusted.
        let first_file = text.lines().find(|l| l.starts_with("f ")).unwrap();
        for bad in [
            text.replace("end\n", ""),
            text.replace("end\n", "end\nsite x\n"),
            text.replace("f 10", "f x10"),
            text.replace("sites/r/s1/site.json", "../x"),
            text.replace("site s1", "sitex s1"),
            text.replacen("fleet\n", &format!("{first_file}\nfleet\n"), 1),
            text.replace("inputs -\n", ""),
            text.replace("inputs -", "inputs 00"),
            text.replace("counts 0 0 0", "counts 0 0"),
            text.replace("counts 0 0 0", "counts 0 x 0"),
            text.replace("fleet\n", "warning\nfleet\n"),
            text.replace("fleet\n", ""),
            text.replace("end\n", &format!("{s0}end\n")),
            text[..text.len() / 2].to_owned(),
            String::new(),
        ] {
            assert!(Cache::parse(bad.clone(), (0, 0)).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_cache_finds_each_of_its_sites_and_no_other() {
        // Ids that share their first 16 bytes (the look-up's key), and short ones.
        let mut ids: Vec<String> = (0..24).map(|i| format!("store-de-berlin-{i:03}")).collect();
        ids.extend(["s", "s-1", "s0", "store"].map(String::from));
        let mut c = Cache::new([0; 32], [0; 32]);
        for id in &ids {
            c.insert(id, [1; 32], "-", &[]).unwrap();
        }
        for id in &ids {
            assert!(c.site(id).is_some(), "{id}");
        }
        for id in [
            "b",
            "st",
            "store-de-berlin-",
            "store-de-berlin-00",
            "store-de-berlin-0240",
        ] {
            assert!(c.site(id).is_none(), "{id}");
        }
    }

    #[test]
    fn a_note_reads_as_the_declared_buffers() {
        let c = sample();
        assert_eq!(c.site("s1").unwrap().declared().count(), 0);
        let mut entry = c.site("s1").unwrap();
        entry.note = "broker=512,telemetry-collector=7911,queue=lots,metrics-agent";
        assert_eq!(
            entry.declared().collect::<Vec<_>>(),
            [("broker", 512), ("telemetry-collector", 7911)]
        );
    }

    #[test]
    fn the_manifest_digest_is_the_digest_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(manifest_digest(dir.path()), None);
        fs::create_dir_all(dir.path().join(".edgefleet")).unwrap();
        for len in [0, 1, (1 << 16) - 1, 1 << 16, 3 * (1 << 16) + 17] {
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            fs::write(dir.path().join(crate::write::MANIFEST), &bytes).unwrap();
            assert_eq!(
                manifest_digest(dir.path()),
                Some(digest(&[&bytes])),
                "{len}"
            );
        }
    }

    #[test]
    fn the_identity_changes_with_the_plan_settings() {
        let options = PlanOptions::default();
        let identity = generator_identity(&options);
        assert_eq!(identity, generator_identity(&options.clone()));
        let smaller_shards = PlanOptions {
            shard_size: 10,
            ..PlanOptions::default()
        };
        assert_ne!(identity, generator_identity(&smaller_shards));
    }

    #[cfg(unix)]
    #[test]
    fn record_cache_notes_every_site_and_leaves_a_clean_rerun_alone() {
        use crate::plan::SiteRecord;
        use crate::tree::OutputTree;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let (s1_json, s1_overlay, s2_json) = (
            "sites/eu-north/rig-nsea-042/site.json",
            "sites/eu-north/rig-nsea-042/telemetry-collector/kustomization.yaml",
            "sites/eu-north/rig-nsea-051/site.json",
        );
        let mut tree = OutputTree::new();
        for path in [s1_json, s1_overlay, s2_json] {
            tree.insert(path, "{}\n");
        }
        let changes = crate::write::compare(&tree, &out).unwrap();
        crate::write::apply(&tree, &out, &changes).unwrap();
        let record = |id: &str, paths: &[&str], kept: bool| SiteRecord {
            id: id.to_owned(),
            fingerprint: [id.len() as u8; 32],
            paths: paths.iter().map(|p| p.to_string()).collect(),
            kept,
            written: None,
        };
        let mut planned = Plan {
            tree,
            sites: 3,
            overlays: 1,
            appsets: 0,
            reused: 0,
            fleet_paths: Vec::new(),
            records: vec![
                record("rig-nsea-042", &[s1_json, s1_overlay], false),
                record("rig-nsea-051", &[s2_json], false),
                // Its file is not on disk: left out, so the next run plans it.
                record("rig-gulf-7", &["sites/us-gulf/rig-gulf-7/site.json"], false),
            ],
        };
        let declared: Declared = [(
            "rig-nsea-042".to_owned(),
            [
                ("telemetry-collector".to_owned(), 7911),
                ("broker".to_owned(), 512),
            ]
            .into(),
        )]
        .into();
        // What a fresh write saw of a file is taken as is.
        let written = FileStat {
            size: 3,
            mtime: (1, 2),
            ctime: (3, 4),
            ino: 5,
        };
        planned.records[1].written = Some(vec![Some(written)]);
        record_cache(&out, [9; 32], &planned, &changes, None, &declared, NO_RUN).unwrap();

        let cache = Cache::read(&out, &[9; 32]).unwrap();
        let sites = Cache::owned_sites(&cache);
        let ids: Vec<&str> = sites.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(ids, ["rig-nsea-042", "rig-nsea-051"]);
        let s1 = &sites[0];
        assert_eq!(s1.1, [12; 32]);
        assert_eq!(s1.2, "broker=512,telemetry-collector=7911");
        let on_disk = |path: &str| (path.to_owned(), FileStat::of(&out.join(path)).unwrap());
        assert_eq!(s1.3, [on_disk(s1_json), on_disk(s1_overlay)]);
        let s2 = &sites[1];
        assert_eq!(s2.2, "-");
        assert_eq!(s2.3, [(s2_json.to_owned(), written)]);

        // A rerun that wrote nothing and planned no site again leaves the cache file alone.
        planned.records.pop();
        for r in &mut planned.records {
            r.kept = true;
        }
        let again = crate::write::compare(&planned.tree, &out).unwrap();
        assert!(!again.writes(), "{again:?}");
        fs::write(out.join(CACHE), "left alone").unwrap();
        record_cache(
            &out,
            [9; 32],
            &planned,
            &again,
            Some(&cache),
            &declared,
            NO_RUN,
        )
        .unwrap();
        assert_eq!(fs::read_to_string(out.join(CACHE)).unwrap(), "left alone");

        // A kept site's record lists no files (the cache does). After a write (here a new
        // file of a third site) its files are looked at again: their times changed.
        for r in &mut planned.records {
            r.paths.clear();
        }
        let s3_json = "sites/us-gulf/rig-gulf-7/site.json";
        let mut tree = OutputTree::new();
        tree.insert(s3_json, "{}\n");
        planned
            .records
            .push(record("rig-gulf-7", &[s3_json], false));
        let kept = cache.kept_paths(&planned.records);
        assert_eq!(kept, [s1_json, s1_overlay, s2_json]);
        let wrote = crate::write::compare_kept(&tree, kept, &out, &|_| true).unwrap();
        assert!(wrote.writes());
        crate::write::apply(&tree, &out, &wrote).unwrap();
        planned.tree = tree;
        record_cache(
            &out,
            [9; 32],
            &planned,
            &wrote,
            Some(&cache),
            &declared,
            NO_RUN,
        )
        .unwrap();
        let after = Cache::owned_sites(&Cache::read(&out, &[9; 32]).unwrap());
        let ids: Vec<&str> = after.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(ids, ["rig-gulf-7", "rig-nsea-042", "rig-nsea-051"]);
        assert_eq!(after[0].3, [on_disk(s3_json)]);
        assert_eq!(after[1].3, [on_disk(s1_json), on_disk(s1_overlay)]);
        assert_eq!(after[2].3, [on_disk(s2_json)]);
        assert_ne!(
            after[2].3, s2.3,
            "the fresh writer's stat is not kept after a write"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_unchanged_run_needs_the_same_inputs_every_site_and_every_file_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let (base, site_json) = ("bases/broker/kustomization.yaml", "sites/r/s1/site.json");
        let mut tree = crate::tree::OutputTree::new();
        for path in [base, site_json, "sites/r/s2/site.json"] {
            tree.insert(path, "{}\n");
        }
        let changes = crate::write::compare(&tree, &out).unwrap();
        crate::write::apply(&tree, &out, &changes).unwrap();
        let record_of = |id: &str| crate::plan::SiteRecord {
            id: id.to_owned(),
            fingerprint: [1; 32],
            paths: vec![format!("sites/r/{id}/site.json")],
            kept: false,
            written: None,
        };
        let planned = Plan {
            tree,
            sites: 2,
            overlays: 3,
            appsets: 1,
            reused: 0,
            fleet_paths: vec![base.to_owned()],
            records: vec![record_of("s1"), record_of("s2")],
        };
        let warnings = ["site s1: short".to_owned(), "see docs".to_owned()];
        let run = RunRecord {
            inputs: Some([4; 32]),
            warnings: &warnings,
        };
        // The cache as if written `later` seconds after now (files written in the cache's own
        // clock tick are racy).
        let date_cache = |later: i64| {
            let now = std::time::SystemTime::now();
            let when = if later >= 0 {
                now + std::time::Duration::from_secs(later as u64)
            } else {
                now - std::time::Duration::from_secs(later.unsigned_abs())
            };
            let file = fs::File::options()
                .write(true)
                .open(out.join(CACHE))
                .unwrap();
            file.set_modified(when).unwrap();
        };
        let record = |planned: &Plan, run: RunRecord<'_>| {
            let _ = fs::remove_file(out.join(CACHE));
            record_cache(
                &out,
                [9; 32],
                planned,
                &changes,
                None,
                &Declared::new(),
                run,
            )
            .unwrap();
            date_cache(1);
        };
        let unchanged = || unchanged_run(&out, &[9; 32], &[4; 32]);
        record(&planned, run);
        let expected = UnchangedRun {
            counts: RunCounts {
                sites: 2,
                overlays: 3,
                appsets: 1,
            },
            files: 3,
            warnings: vec!["site s1: short".to_owned(), "see docs".to_owned()],
        };
        assert_eq!(unchanged(), Some(expected.clone()));
        // Other inputs, another generator.
        assert_eq!(unchanged_run(&out, &[9; 32], &[5; 32]), None);
        assert_eq!(unchanged_run(&out, &[8; 32], &[4; 32]), None);
        // The cache written before the files (or in their tick): not vouched for.
        date_cache(-60);
        assert_eq!(unchanged(), None);
        date_cache(1);
        assert!(unchanged().is_some());
        // Another manifest next to it.
        let manifest = out.join(crate::write::MANIFEST);
        let text = fs::read_to_string(&manifest).unwrap();
        fs::write(&manifest, format!("{text}sites/r/s9/site.json\n")).unwrap();
        assert_eq!(unchanged(), None);
        fs::write(&manifest, &text).unwrap();
        assert!(unchanged().is_some());
        // No inputs recorded.
        record(&planned, NO_RUN);
        assert_eq!(unchanged(), None);
        // A site whose file cannot be stat'ed is left out, and the inputs with it.
        let mut missing = planned.clone();
        missing.records.push(record_of("s3"));
        missing.sites = 3;
        record(&missing, run);
        let cache = Cache::read(&out, &[9; 32]).unwrap();
        assert_eq!((cache.len(), cache.run.inputs), (2, None));
        assert_eq!(unchanged(), None);
        // A fleet-wide file or a site's file changed (same size, a later time), or gone.
        for path in [base, site_json] {
            record(&planned, run);
            assert!(unchanged().is_some());
            std::thread::sleep(std::time::Duration::from_millis(20));
            fs::write(out.join(path), "[]\n").unwrap();
            assert_eq!(unchanged(), None, "{path}");
            record(&planned, run);
            fs::remove_file(out.join(path)).unwrap();
            assert_eq!(unchanged(), None, "{path}");
            fs::write(out.join(path), "{}\n").unwrap();
        }
        // A warning with a line break is not recorded, nor are the inputs.
        let broken = ["two\nlines".to_owned()];
        let with_broken = RunRecord {
            inputs: Some([4; 32]),
            warnings: &broken,
        };
        record(&planned, with_broken);
        assert_eq!(unchanged(), None);
        assert_eq!(Cache::read(&out, &[9; 32]).unwrap().run.inputs, None);
        // The text read in pieces is checked as `Cache::read` checks it: cut short, a line
        // after the end, a malformed line, sites out of order or twice are not vouched for.
        record(&planned, run);
        let good = fs::read_to_string(out.join(CACHE)).unwrap();
        let s1 = &good[good.find("site s1").unwrap()..good.find("site s2").unwrap()];
        let s2 = &good[good.find("site s2").unwrap()..good.find("end\n").unwrap()];
        for bad in [
            good.replace("end\n", ""),
            good.replace("end\n", "end\nend\n"),
            good.replace("end\n", "end\nf 1 2 3 4 5 6 x\n"),
            good.replace("end\n", "en"),
            good.replace("\nsite s2", "\nsite  s2"),
            good.replace("\nf ", "\nf  "),
            good.replace("\nf ", "\n\nf "),
            good.replace(s1, "").replace(s2, &format!("{s2}{s1}")),
            good.replace(s2, &format!("{s2}{s2}")),
            good.replace("counts 2 3 1", "counts 3 3 1"),
            good.replacen("generate cache 2", "generate cache 1", 1),
            good.replacen("inputs ", "inputs  ", 1),
            good.replacen("\nfleet\n", "\nwarning x\nflee\n", 1),
        ] {
            assert_ne!(bad, good);
            fs::write(out.join(CACHE), &bad).unwrap();
            date_cache(1);
            assert_eq!(unchanged(), None, "{bad}");
        }
        fs::write(out.join(CACHE), &good).unwrap();
        date_cache(1);
        assert_eq!(unchanged(), Some(expected));
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_larger_than_its_reading_pieces_is_checked_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let shared = "sites/r/shared/site.json";
        let mut tree = crate::tree::OutputTree::new();
        tree.insert(shared, "{}\n");
        let changes = crate::write::compare(&tree, &out).unwrap();
        crate::write::apply(&tree, &out, &changes).unwrap();
        // 40,000 sites of one file each (the same file: only its looks are checked), about
        // 6 MB of cache: more than one piece of 4 MiB and many of 64 KiB.
        let sites = 40_000;
        let planned = Plan {
            tree,
            sites,
            overlays: 0,
            appsets: 0,
            reused: 0,
            fleet_paths: Vec::new(),
            records: (0..sites)
                .map(|i| crate::plan::SiteRecord {
                    id: format!("site-{i:06}"),
                    fingerprint: [2; 32],
                    paths: vec![shared.to_owned()],
                    kept: false,
                    written: None,
                })
                .collect(),
        };
        let run = RunRecord {
            inputs: Some([4; 32]),
            warnings: &[],
        };
        record_cache(
            &out,
            [9; 32],
            &planned,
            &changes,
            None,
            &Declared::new(),
            run,
        )
        .unwrap();
        let path = out.join(CACHE);
        let good = fs::read_to_string(&path).unwrap();
        assert!(good.len() > 5 << 20, "{}", good.len());
        let write = |text: &str| {
            fs::write(&path, text).unwrap();
            let later = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
            let file = fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(later).unwrap();
        };
        let unchanged = || unchanged_run(&out, &[9; 32], &[4; 32]);
        write(&good);
        let found = unchanged().unwrap();
        assert_eq!((found.counts.sites, found.files), (sites, sites));
        // Two sites swapped far into the text (past the first 4 MiB), a malformed line there,
        // the last site's file line cut.
        let (a, b) = ("site site-035000 ", "site site-035001 ");
        let swapped = good.replace(a, "TMP").replace(b, a).replace("TMP", b);
        let at = good.find("site site-036000").unwrap();
        let mut malformed = good.clone();
        malformed.insert(at, 'x');
        let cut = good.replace(&format!("{shared}\nend\n"), "end\n");
        for bad in [swapped, malformed, cut] {
            assert_ne!(bad, good);
            write(&bad);
            assert_eq!(unchanged(), None);
        }
        write(&good);
        assert!(unchanged().is_some());
    }
}
