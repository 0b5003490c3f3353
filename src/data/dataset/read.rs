//! Streaming CSV reading shared by every canonical file: columns matched by header name, one pass over the
//! file's bytes, and strict accounting: every data row is accepted or rejected with a reason, so
//! `read = accepted + rejected` always holds.
//!
//! Records are split exactly as the csv crate splits them (its defaults: `,`, `"` with doubled quotes,
//! `\r`, `\n` or `\r\n` ends, blank lines skipped, a UTF-8 BOM dropped), which the tests check against it.
//! The file is read in large chunks; one thread hashes them and finds where each record starts and ends,
//! which takes a look at few of the bytes; the fields are split, checked and parsed on as many threads as
//! there are cores; and the calling thread takes the rows in file order.

use super::schema::Column;
use super::{FileError, Position, Rejection};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::sync::{Mutex, mpsc};

/// One field of a row: where it starts and ends in the row's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

/// One data row, with its fields checked to be UTF-8 and trimmed.
pub struct Row<'a> {
    pub file: &'a str,
    pub line: u64,
    /// The record's text, checked to be UTF-8, and where each field lies in it: each field is a slice, and
    /// no row needs a vector of its own. The text is the record as the file has it when no field is quoted
    /// (the usual case), else the fields unquoted and back to back; both live in per-chunk buffers.
    text: &'a str,
    fields: &'a [Span],
    index: &'a [Option<usize>],
    columns: &'a [Column],
}

/// `str::trim`, without its character-by-character look at both ends in the usual case where neither end
/// is whitespace.
fn trim(s: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b.is_ascii() && !(b as char).is_whitespace());
    if plain(s.as_bytes().first()) && plain(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

impl<'a> Row<'a> {
    /// The trimmed value of the `i`-th declared column; `None` when the column is absent or the cell empty.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        let idx = self.index.get(i).copied().flatten()?;
        let f = self.fields.get(idx)?;
        let v = trim(self.text.get(f.start..f.end)?);
        if v.is_empty() { None } else { Some(v) }
    }

    /// Like [`Row::get`] for a required column: an empty cell is a rejection.
    pub fn need(&self, i: usize) -> Result<&'a str, Rejection> {
        self.get(i)
            .ok_or_else(|| self.reject(i, "required value is empty"))
    }

    /// Like [`Row::need`] for an id column: the id must also pass [`crate::data::codes::check_id`].
    pub fn id(&self, i: usize, party: bool) -> Result<&'a str, Rejection> {
        let v = self.need(i)?;
        crate::data::codes::check_id(v, party).map_err(|m| self.reject(i, m))?;
        Ok(v)
    }

    /// A rejection of this row, blamed on the `i`-th declared column.
    pub fn reject(&self, i: usize, reason: impl Into<String>) -> Rejection {
        let column = self.columns.get(i).map(|c| c.name).unwrap_or("-");
        Rejection::new(Position::new(self.file, self.line, column), reason)
    }

    /// Parses the `i`-th column with `f`, turning its error into a rejection naming the column.
    pub fn parse<T>(
        &self,
        i: usize,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, Rejection> {
        let v = self.need(i)?;
        f(v).map_err(|m| self.reject(i, m))
    }

    /// Parses an optional column: empty is `None`, anything else must parse.
    pub fn parse_opt<T>(
        &self,
        i: usize,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Rejection> {
        match self.get(i) {
            None => Ok(None),
            Some(v) => f(v).map(Some).map_err(|m| self.reject(i, m)),
        }
    }
}

/// The outcome of reading one file.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct FileStats {
    pub file: String,
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub unknown_columns: Vec<String>,
    pub sha256: String,
    pub bytes: u64,
}

/// A header matched against the declared columns.
#[derive(Clone)]
struct Header {
    /// Trimmed and lower-cased, to name the column of a bad cell.
    names: Vec<String>,
    /// For each declared column, its position in the file.
    index: Vec<Option<usize>>,
    unknown: Vec<String>,
}

fn read_header(file: &str, fields: &[&[u8]], columns: &[Column]) -> Result<Header, FileError> {
    // The header: trimmed, case-insensitive, a UTF-8 BOM removed.
    let mut header: Vec<String> = Vec::with_capacity(fields.len());
    // Bytes before the current field: the fields so far and their separators (headers are not quoted). The
    // header is the first record, which the csv crate placed at byte 0 even after a BOM or blank lines.
    let mut before = 0u64;
    for (i, &raw) in fields.iter().enumerate() {
        let f = if i == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let skipped = (raw.len() - f.len()) as u64;
        let s = std::str::from_utf8(f).map_err(|e| FileError::Encoding {
            at: Position::header(file),
            offset: before + skipped + e.valid_up_to() as u64,
        })?;
        before += raw.len() as u64 + 1;
        header.push(s.trim().to_ascii_lowercase());
    }
    // A trailing empty header cell (a line ending in a comma) is not a column.
    while header.last().is_some_and(|h| h.is_empty()) && header.len() > 1 {
        header.pop();
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        if seen.insert(h.as_str(), i).is_some() {
            return Err(FileError::DuplicateColumn {
                at: Position::header(file),
                name: h.clone(),
            });
        }
    }
    let index: Vec<Option<usize>> = columns.iter().map(|c| seen.get(c.name).copied()).collect();
    let missing: Vec<&str> = columns
        .iter()
        .zip(&index)
        .filter(|(c, i)| c.required && i.is_none())
        .map(|(c, _)| c.name)
        .collect();
    if !missing.is_empty() {
        return Err(FileError::MissingColumns {
            at: Position::header(file),
            missing: missing.join(", "),
            found: header
                .iter()
                .filter(|h| !h.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let unknown = header
        .iter()
        .filter(|h| !h.is_empty() && !columns.iter().any(|c| c.name == h.as_str()))
        .cloned()
        .collect();
    Ok(Header {
        names: header,
        index,
        unknown,
    })
}

/// The raw form of a rejected row, as the csv crate writes its fields.
fn raw_row<'a>(fields: impl Iterator<Item = &'a [u8]>) -> String {
    let mut rec = csv::ByteRecord::new();
    for f in fields {
        rec.push_field(f);
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    if w.write_byte_record(&rec).is_err() {
        return String::new();
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}

/// Where the next record lies from a given byte on, as csv-core's reader finds it.
#[derive(Debug, PartialEq, Eq)]
enum Scan {
    Found {
        /// The record's first byte: line ends before it are skipped, as blank lines are.
        first: usize,
        /// The end of its bytes (its line end, or the end of the data).
        end: usize,
        /// Just past its line end: where the next record starts, for the csv crate.
        next: usize,
        /// Whether a field starts with a quote: then its fields are not plain slices of its bytes.
        quoted: bool,
        /// `\n`s from the starting byte to `first`, and to `next`.
        nl_before: u64,
        nl_all: u64,
    },
    /// The record does not end before the data does, and more may come.
    NeedMore,
    /// No record: only line ends (or nothing) up to the end of the file.
    End,
}

fn count_nl(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

/// Finds the record starting at `at` in `buf`, `eof` telling whether the file ends where `buf` does.
///
/// csv-core's states, reduced to what decides where a record ends: a quote opens a quoted field only as the
/// first byte of a field; in a quoted field only a quote matters, and after the closing one a second quote
/// is a quote in the value, a `,` ends the field, a line end the record, and anything else goes on as an
/// unquoted field, in which quotes are plain bytes. So an unquoted stretch is searched for `\r`, `\n` and
/// `"` only: a `"` right after a `,` (the stretch holds no quoted part, so every `,` in it is a separator)
/// opens a quoted field, any other is a byte of a value. A record ends after its first `\r` or `\n` outside
/// quotes; line ends at the start of a record are skipped; the end of the file ends a record anywhere.
fn scan(buf: &[u8], at: usize, eof: bool) -> Scan {
    let len = buf.len();
    let mut p = at;
    let mut nl = 0u64;
    while let Some(&b) = buf.get(p) {
        if b == b'\n' {
            nl += 1;
        } else if b != b'\r' {
            break;
        }
        p += 1;
    }
    if p >= len {
        return if eof { Scan::End } else { Scan::NeedMore };
    }
    let first = p;
    let nl_before = nl;
    let mut quoted = false;
    // A record that ends with the data: complete only at the end of the file.
    let at_end = |quoted: bool, nl: u64| {
        if eof {
            Scan::Found {
                first,
                end: len,
                next: len,
                quoted,
                nl_before,
                nl_all: nl,
            }
        } else {
            Scan::NeedMore
        }
    };
    // A record that ends with the line end at `q`.
    let ended = |q: usize, quoted: bool, nl: u64| Scan::Found {
        first,
        end: q,
        next: q + 1,
        quoted,
        nl_before,
        nl_all: nl + u64::from(buf.get(q) == Some(&b'\n')),
    };
    'field: loop {
        // `p` is the first byte of a field.
        match buf.get(p) {
            None => return at_end(quoted, nl),
            Some(b'"') => {
                quoted = true;
                p += 1;
                loop {
                    let rest = buf.get(p..).unwrap_or_default();
                    let Some(k) = memchr::memchr(b'"', rest) else {
                        return at_end(quoted, nl + count_nl(rest));
                    };
                    nl += count_nl(&rest[..k]);
                    p += k + 1;
                    match buf.get(p) {
                        None => return at_end(quoted, nl),
                        Some(b'"') => p += 1,
                        Some(b',') => {
                            p += 1;
                            continue 'field;
                        }
                        Some(b'\r' | b'\n') => return ended(p, quoted, nl),
                        Some(_) => break,
                    }
                }
            }
            Some(_) => {}
        }
        // An unquoted stretch from `p`, whose first byte is not a quote.
        loop {
            let rest = buf.get(p..).unwrap_or_default();
            let Some(k) = memchr::memchr3(b'\r', b'\n', b'"', rest) else {
                return at_end(quoted, nl);
            };
            let q = p + k;
            if rest[k] != b'"' {
                return ended(q, quoted, nl);
            }
            if k > 0 && rest[k - 1] == b',' {
                p = q;
                continue 'field;
            }
            p = q + 1;
        }
    }
}

/// Splits a record without quoted fields: each field is the bytes between separators. Records are short
/// and fields shorter, so the separators are found eight bytes at a time in a word, not by a search call
/// per field.
fn split_plain(raw: &[u8], spans: &mut Vec<Span>) {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const COMMAS: u64 = 0x0101_0101_0101_0101 * b',' as u64;
    let mut start = 0;
    let mut words = raw.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let x = u64::from_le_bytes(b) ^ COMMAS;
        // The top bit of each byte of `x` that is zero, that is of each comma (exact: no carry crosses bytes).
        let mut commas = !(((x & LOW7) + LOW7) | x | LOW7);
        while commas != 0 {
            let i = at + (commas.trailing_zeros() / 8) as usize;
            spans.push(Span { start, end: i });
            start = i + 1;
            commas &= commas - 1;
        }
        at += 8;
    }
    for (j, &c) in words.remainder().iter().enumerate() {
        if c == b',' {
            spans.push(Span { start, end: at + j });
            start = at + j + 1;
        }
    }
    spans.push(Span {
        start,
        end: raw.len(),
    });
}

/// The field of the first quote in a record that is not CSV quoting, and what is wrong with it. The csv
/// crate reads `ab"c` as the value `ab"c` and `"ab"c` as `abc`: a quote the writer meant as text, or a
/// mangled field, either way a value nobody wrote, so such a record is rejected rather than guessed at.
fn bare_quote(raw: &[u8]) -> Option<(usize, &'static str)> {
    let mut p = 0;
    let mut field = 0;
    loop {
        if raw.get(p) == Some(&b'"') {
            p += 1;
            loop {
                let Some(k) = memchr::memchr(b'"', raw.get(p..).unwrap_or_default()) else {
                    return Some((field, "a quoted value is never closed"));
                };
                p += k + 1;
                if raw.get(p) == Some(&b'"') {
                    p += 1;
                } else {
                    break;
                }
            }
            match raw.get(p) {
                None => return None,
                Some(b',') => {
                    p += 1;
                    field += 1;
                    continue;
                }
                Some(_) => return Some((field, "text after the closing quote of a value")),
            }
        }
        let rest = raw.get(p..).unwrap_or_default();
        let end = memchr::memchr(b',', rest).unwrap_or(rest.len());
        if memchr::memchr(b'"', &rest[..end]).is_some() {
            return Some((field, "a bare '\"' inside an unquoted value"));
        }
        if end == rest.len() {
            return None;
        }
        p += end + 1;
        field += 1;
    }
}

/// Splits a record (from [`scan`], without its line end) into fields as csv-core does, appending their
/// values back to back to `out`; the spans are relative to where the record starts in `out`.
fn split_quoted(raw: &[u8], spans: &mut Vec<Span>, out: &mut Vec<u8>) {
    let base = out.len();
    let mut p = 0;
    loop {
        let start = out.len() - base;
        if raw.get(p) == Some(&b'"') {
            p += 1;
            loop {
                let rest = raw.get(p..).unwrap_or_default();
                match memchr::memchr(b'"', rest) {
                    None => {
                        out.extend_from_slice(rest);
                        p = raw.len();
                        break;
                    }
                    Some(k) => {
                        out.extend_from_slice(&rest[..k]);
                        p += k + 1;
                        if raw.get(p) == Some(&b'"') {
                            out.push(b'"');
                            p += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
        }
        // The unquoted part of the field (all of it, or what follows a closing quote) up to a separator.
        let rest = raw.get(p..).unwrap_or_default();
        match memchr::memchr(b',', rest) {
            Some(k) => {
                out.extend_from_slice(&rest[..k]);
                p += k + 1;
                spans.push(Span {
                    start,
                    end: out.len() - base,
                });
            }
            None => {
                out.extend_from_slice(rest);
                spans.push(Span {
                    start,
                    end: out.len() - base,
                });
                return;
            }
        }
    }
}

/// Bytes that are checked as a whole to be UTF-8 once, so that a row's text is a slice of them.
enum Buf {
    Text(String),
    Bytes(Vec<u8>),
}

impl Default for Buf {
    fn default() -> Self {
        Buf::Bytes(Vec::new())
    }
}

impl Buf {
    fn bytes(&self) -> &[u8] {
        match self {
            Buf::Text(s) => s.as_bytes(),
            Buf::Bytes(b) => b,
        }
    }

    /// As text when the bytes are UTF-8 (checked once for the whole buffer).
    fn checked(self) -> Buf {
        match self {
            Buf::Bytes(b) => match String::from_utf8(b) {
                Ok(s) => Buf::Text(s),
                Err(e) => Buf::Bytes(e.into_bytes()),
            },
            t => t,
        }
    }

    /// `start..end` as text, if it is UTF-8.
    fn str(&self, start: usize, end: usize) -> Option<&str> {
        match self {
            Buf::Text(s) => s.get(start..end),
            Buf::Bytes(b) => std::str::from_utf8(b.get(start..end)?).ok(),
        }
    }

    fn into_vec(self) -> Vec<u8> {
        match self {
            Buf::Text(s) => s.into_bytes(),
            Buf::Bytes(b) => b,
        }
    }
}

/// A record found by the splitting thread, in its chunk.
#[derive(Clone, Copy)]
struct RecAt {
    first: usize,
    end: usize,
    quoted: bool,
    line: u64,
    /// Where the csv crate places the record: just past the previous record's line end.
    pos: u64,
}

/// A split record: where its text is (in the chunk, or unquoted in the chunk's scratch) and its fields.
#[derive(Clone, Copy)]
struct RowAt {
    scratch: bool,
    start: usize,
    end: usize,
    spans: usize,
    fields: usize,
}

/// A piece of a file: whole records, which go from the splitting thread to a worker, to the calling thread,
/// and back to be filled again (buffers are reused, not allocated per chunk).
struct Chunk<P> {
    seq: usize,
    data: Buf,
    recs: Vec<RecAt>,
    rows: Vec<RowAt>,
    spans: Vec<Span>,
    scratch: Buf,
    prepared: Vec<Result<P, Rejection>>,
}

impl<P> Chunk<P> {
    fn new() -> Self {
        Chunk {
            seq: 0,
            data: Buf::default(),
            recs: Vec::new(),
            rows: Vec::new(),
            spans: Vec::new(),
            scratch: Buf::default(),
            prepared: Vec::new(),
        }
    }

    /// The text of a row, if it is UTF-8.
    fn text(&self, r: &RowAt) -> Option<&str> {
        let b = if r.scratch { &self.scratch } else { &self.data };
        b.str(r.start, r.end)
    }

    fn row_bytes(&self, r: &RowAt) -> &[u8] {
        let b = if r.scratch { &self.scratch } else { &self.data };
        b.bytes().get(r.start..r.end).unwrap_or_default()
    }

    fn fields(&self, r: &RowAt) -> &[Span] {
        self.spans
            .get(r.spans..r.spans + r.fields)
            .unwrap_or_default()
    }

    /// A rejected row's `raw`.
    fn raw(&self, r: &RowAt) -> String {
        let bytes = self.row_bytes(r);
        raw_row(
            self.fields(r)
                .iter()
                .map(|s| bytes.get(s.start..s.end).unwrap_or_default()),
        )
    }
}

/// Bytes read at a time, and the size of a chunk: a few thousand rows.
const CHUNK: usize = 1 << 18;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a file in chunks, hashing every byte, and finds its records.
struct Splitter<R> {
    input: R,
    hasher: Sha256,
    eof: bool,
    started: bool,
    /// Storage, all of it initialized: `buf[..len]` is data, `at` the start of the next record.
    buf: Vec<u8>,
    len: usize,
    at: usize,
    /// The file offset of `buf[0]`, and the `\n`s before `at`.
    base: u64,
    nl: u64,
    /// The size of a chunk.
    chunk: usize,
}

enum Step {
    Record(RecAt),
    /// The buffer is full and its last record goes on past it.
    Full,
    End,
}

impl<R: Read> Splitter<R> {
    fn new(input: R, chunk: usize) -> Self {
        Splitter {
            input,
            hasher: Sha256::new(),
            eof: false,
            started: false,
            buf: vec![0; chunk],
            len: 0,
            at: 0,
            base: 0,
            nl: 0,
            chunk,
        }
    }

    /// Reads until the buffer is full or the file ends.
    fn fill(&mut self) -> std::io::Result<()> {
        while !self.eof && self.len < self.buf.len() {
            let Some(space) = self.buf.get_mut(self.len..) else {
                break;
            };
            match self.input.read(space) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    let n = n.min(space.len());
                    self.hasher.update(&space[..n]);
                    self.len += n;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if !self.started {
            self.started = true;
            // csv-core drops a BOM at the start of its first buffer.
            if self.buf.get(..self.len.min(3)) == Some(BOM) {
                self.at = 3;
            }
        }
        Ok(())
    }

    fn step(&mut self) -> std::io::Result<Step> {
        loop {
            match scan(
                self.buf.get(..self.len).unwrap_or_default(),
                self.at,
                self.eof,
            ) {
                Scan::Found {
                    first,
                    end,
                    next,
                    quoted,
                    nl_before,
                    nl_all,
                } => {
                    let rec = RecAt {
                        first,
                        end,
                        quoted,
                        line: self.nl + nl_before + 1,
                        pos: self.base + self.at as u64,
                    };
                    self.nl += nl_all;
                    self.at = next;
                    return Ok(Step::Record(rec));
                }
                Scan::End => return Ok(Step::End),
                Scan::NeedMore if self.len >= self.buf.len() => return Ok(Step::Full),
                Scan::NeedMore => self.fill()?,
            }
        }
    }

    /// Room for more of the record at `at` when no record before it is waiting to be sent: the record moved
    /// to the front, or a larger buffer.
    fn make_room(&mut self) {
        if self.at > 0 {
            self.buf.copy_within(self.at..self.len, 0);
            self.base += self.at as u64;
            self.len -= self.at;
            self.at = 0;
        } else {
            let n = self.buf.len().max(self.chunk) * 2;
            self.buf.resize(n, 0);
        }
    }

    /// Continues in `next`: the records before `at` stay in the buffer returned (cut there), and the
    /// unfinished one is copied over; the new buffer holds at least twice that, so that a long record is
    /// scanned again only a few times.
    fn switch(&mut self, mut next: Vec<u8>) -> Vec<u8> {
        let tail = self.len - self.at;
        let want = self.chunk.max(2 * tail).max(next.capacity());
        next.resize(want, 0);
        next[..tail].copy_from_slice(&self.buf[self.at..self.len]);
        let mut old = std::mem::replace(&mut self.buf, next);
        old.truncate(self.at);
        self.base += self.at as u64;
        self.len = tail;
        self.at = 0;
        old
    }

    /// The first record's fields, or `None` for a file without one.
    fn header(&mut self) -> std::io::Result<Option<Vec<Vec<u8>>>> {
        loop {
            match self.step()? {
                Step::Record(r) => {
                    let mut spans = Vec::new();
                    let mut out = Vec::new();
                    split_quoted(&self.buf[r.first..r.end], &mut spans, &mut out);
                    return Ok(Some(
                        spans.iter().map(|s| out[s.start..s.end].to_vec()).collect(),
                    ));
                }
                Step::Full => self.make_room(),
                Step::End => return Ok(None),
            }
        }
    }

    /// Sends the records that follow in chunks to `work`, taking chunks back from `free`; ends with the
    /// file's SHA-256 and size, or the read error that stopped it (after the chunks read before it).
    fn run<P>(
        mut self,
        work: mpsc::Sender<Chunk<P>>,
        free: mpsc::Receiver<Chunk<P>>,
        pool: usize,
    ) -> std::io::Result<(String, u64)> {
        let mut made = 1;
        let mut seq = 0;
        let mut cur = Chunk::new();
        // A chunk to fill next: a returned one if any, a new one while fewer than `pool` exist, else the
        // first one returned. `None` when the loading thread has stopped.
        let take = |made: &mut usize| match free.try_recv() {
            Ok(c) => Some(c),
            Err(_) if *made < pool => {
                *made += 1;
                Some(Chunk::new())
            }
            Err(_) => free.recv().ok(),
        };
        let failed = loop {
            match self.step() {
                Ok(Step::Record(r)) => cur.recs.push(r),
                Ok(Step::Full) if cur.recs.is_empty() => self.make_room(),
                Ok(Step::Full) => {
                    let Some(mut next) = take(&mut made) else {
                        return Ok((String::new(), 0));
                    };
                    next.recs.clear();
                    let buf = std::mem::take(&mut next.data).into_vec();
                    cur.data = Buf::Bytes(self.switch(buf));
                    cur.seq = seq;
                    seq += 1;
                    if work.send(std::mem::replace(&mut cur, next)).is_err() {
                        return Ok((String::new(), 0));
                    }
                }
                Ok(Step::End) => break None,
                Err(e) => break Some(e),
            }
        };
        if !cur.recs.is_empty() {
            let mut rest = std::mem::take(&mut self.buf);
            rest.truncate(self.at);
            cur.data = Buf::Bytes(rest);
            cur.seq = seq;
            let _ = work.send(cur);
        }
        if let Some(e) = failed {
            return Err(e);
        }
        let digest = self.hasher.finalize();
        let bytes = self.base + self.len as u64;
        Ok((digest.iter().map(|b| format!("{b:02x}")).collect(), bytes))
    }
}

/// A record's text as one `&str` when every field is UTF-8, else the first bad field and how far into it
/// the valid bytes go. A plain record (its bytes, separators included) is valid exactly when its fields
/// are; unquoted values back to back are, when they are and each starts on a character boundary.
fn record_text<'a>(
    text: Option<&'a str>,
    bytes: &[u8],
    fields: &[Span],
    plain: bool,
) -> Result<&'a str, (usize, usize)> {
    if let Some(text) = text
        && (plain || text.is_ascii() || fields.iter().all(|f| text.is_char_boundary(f.start)))
    {
        return Ok(text);
    }
    for (i, f) in fields.iter().enumerate() {
        if let Err(e) = std::str::from_utf8(bytes.get(f.start..f.end).unwrap_or_default()) {
            return Err((i, e.valid_up_to()));
        }
    }
    // Unreachable: fields that are each valid make a valid whole with a boundary at each field's start.
    Err((0, 0))
}

/// A worker's part: splits each record of the chunk into fields, checks their number and encoding, and
/// runs `prepare` on the rows that pass, after `warm` on the next few of them.
fn prepare_chunk<P, W, F>(
    c: &mut Chunk<P>,
    file: &str,
    header: &Header,
    columns: &[Column],
    warm: &W,
    prepare: &F,
) where
    W: Fn(&[Row]),
    F: Fn(&Row) -> Result<P, Rejection>,
{
    split_chunk(c);
    let mut prepared = std::mem::take(&mut c.prepared);
    prepared.clear();
    prepare_rows(c, &mut prepared, file, header, columns, warm, prepare);
    c.prepared = prepared;
}

/// Splits every record of the chunk into fields.
fn split_chunk<P>(c: &mut Chunk<P>) {
    c.rows.clear();
    c.spans.clear();
    c.data = std::mem::take(&mut c.data).checked();
    let mut scratch = std::mem::take(&mut c.scratch).into_vec();
    scratch.clear();
    for r in &c.recs {
        let spans = c.spans.len();
        let raw = c.data.bytes().get(r.first..r.end).unwrap_or_default();
        let row = if r.quoted {
            let start = scratch.len();
            split_quoted(raw, &mut c.spans, &mut scratch);
            RowAt {
                scratch: true,
                start,
                end: scratch.len(),
                spans,
                fields: c.spans.len() - spans,
            }
        } else {
            split_plain(raw, &mut c.spans);
            RowAt {
                scratch: false,
                start: r.first,
                end: r.end,
                spans,
                fields: c.spans.len() - spans,
            }
        };
        c.rows.push(row);
    }
    c.scratch = Buf::Bytes(scratch).checked();
}

/// Checks every split record of the chunk and prepares the rows that pass, calling `warm` on a few of them
/// before `prepare`.
#[allow(clippy::too_many_arguments)]
fn prepare_rows<P, W, F>(
    c: &Chunk<P>,
    prepared: &mut Vec<Result<P, Rejection>>,
    file: &str,
    header: &Header,
    columns: &[Column],
    warm: &W,
    prepare: &F,
) where
    W: Fn(&[Row]),
    F: Fn(&Row) -> Result<P, Rejection>,
{
    let width = header.names.len();
    // The `i`-th field of record `r`, named by the file's own header.
    let column_at = |r: &RecAt, i: usize| {
        let name = header.names.get(i).map_or("-", String::as_str);
        Position::new(file, r.line, name)
    };
    // The row of record `k`, or why it has none: the wrong number of fields, or not UTF-8.
    let checked = |r: &RecAt, row: &RowAt| -> Result<Row, Rejection> {
        let fields = c.fields(row);
        let mut n = fields.len();
        // Files whose every line ends in a comma carry one empty trailing cell more than the header.
        while n > width && fields.get(n - 1).is_some_and(|f| f.start == f.end) {
            n -= 1;
        }
        if n != width {
            let hint = if n > width {
                " (an unquoted ',' inside a value? quote values such as \"1,000\")"
            } else {
                ""
            };
            return Err(Rejection::new(
                Position::new(file, r.line, "-"),
                format!("expected {width} fields, found {n}{hint}"),
            ));
        }
        let raw = c.data.bytes().get(r.first..r.end).unwrap_or_default();
        if memchr::memchr(b'"', raw).is_some()
            && let Some((i, why)) = bare_quote(raw)
        {
            return Err(Rejection::new(
                column_at(r, i),
                format!(
                    "{why}; quote the whole value and double each quote inside it (\"a \"\"b\"\" c\")"
                ),
            ));
        }
        match record_text(c.text(row), c.row_bytes(row), fields, !row.scratch) {
            Err((i, at)) => Err(Rejection::new(
                column_at(r, i),
                format!(
                    "not valid UTF-8 (byte {at} of this field; the row starts at byte offset {}); convert the file to UTF-8",
                    r.pos
                ),
            )),
            Ok(text) => Ok(Row {
                file,
                line: r.line,
                text,
                fields: fields.get(..width).unwrap_or_default(),
                index: &header.index,
                columns,
            }),
        }
    };
    let mut group = Vec::with_capacity(WARM);
    for (recs, rows) in c.recs.chunks(WARM).zip(c.rows.chunks(WARM)) {
        group.clear();
        group.extend(
            recs.iter()
                .zip(rows)
                .filter_map(|(r, row)| checked(r, row).ok()),
        );
        warm(&group);
        let rows = recs.iter().zip(rows);
        prepared.extend(rows.map(|(r, row)| checked(r, row).and_then(|row| prepare(&row))));
    }
}

/// Rows handed to `warm` at a time.
const WARM: usize = 16;

/// Chunks in flight per worker: enough that the workers need not wait on the calling thread or the
/// splitting one.
const PER_WORKER: usize = 2;

/// What a worker sends back: a chunk, or the panic that stopped it.
type Done<P> = Result<Chunk<P>, Box<dyn std::any::Any + Send>>;

/// Reads one CSV file: matches the header against `columns`, then for every data row calls `prepare` and,
/// if that accepts it, `on_row` with its result. A row that either rejects (or that is ragged, or not
/// UTF-8) is pushed to `rejects`. `warm` sees the rows a few at a time before `prepare` does, to fetch what
/// their `prepare` will look up (it changes nothing).
///
/// One thread reads and hashes the file and finds its records, workers split and check them and run
/// `prepare`, which must therefore depend only on the row and on state that no row of this file changes
/// (parsing values, looking up parties); the calling thread runs `on_row` on the rows in file order, for
/// what does depend on earlier rows (claiming ids, appending). Rows, rejections and their order are those
/// of a single pass, whatever the number of threads.
#[allow(clippy::too_many_arguments)]
pub fn read_table<R, P, W, F, G>(
    file: &str,
    input: R,
    columns: &[Column],
    rejects: &mut Vec<Rejection>,
    warm: W,
    prepare: F,
    mut on_row: G,
) -> Result<FileStats, FileError>
where
    R: Read + Send,
    P: Send,
    W: Fn(&[Row]) + Sync,
    F: Fn(&Row) -> Result<P, Rejection> + Sync,
    G: FnMut(&Row, P) -> Result<(), Rejection>,
{
    let mut stats = FileStats {
        file: file.to_string(),
        ..Default::default()
    };
    let io_err = |source: std::io::Error| FileError::Csv {
        file: file.to_string(),
        source,
    };
    let mut splitter = Splitter::new(input, CHUNK);
    let Some(fields) = splitter.header().map_err(io_err)? else {
        let expected: Vec<&str> = columns
            .iter()
            .filter(|c| c.required)
            .map(|c| c.name)
            .collect();
        return Err(FileError::Empty {
            at: Position::header(file),
            expected: expected.join(", "),
        });
    };
    let fields: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
    let header = read_header(file, &fields, columns)?;
    stats.unknown_columns = header.unknown.clone();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8));
    let header = &header;
    let (warm, prepare) = (&warm, &prepare);
    let (work_tx, work_rx) = mpsc::channel::<Chunk<P>>();
    let work_rx = &Mutex::new(work_rx);
    let split = std::thread::scope(|scope| {
        // Made here, so that they are dropped (and the other threads stop) if `on_row` panics.
        let (done_tx, done_rx) = mpsc::channel::<Done<P>>();
        let (free_tx, free_rx) = mpsc::channel::<Chunk<P>>();
        let splitter =
            scope.spawn(move || splitter.run(work_tx, free_rx, PER_WORKER * workers + 2));
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                loop {
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(mut c) = next else { return };
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        prepare_chunk(&mut c, file, header, columns, warm, prepare)
                    }));
                    let failed = run.is_err();
                    if done_tx.send(run.map(|_| c)).is_err() || failed {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        // Chunks come back from the workers in any order and are taken in file order.
        let mut waiting: HashMap<usize, Chunk<P>> = HashMap::new();
        let mut next = 0;
        for done in done_rx {
            let c = match done {
                Ok(c) => c,
                Err(panic) => {
                    drop(free_tx);
                    std::panic::resume_unwind(panic);
                }
            };
            waiting.insert(c.seq, c);
            while let Some(mut c) = waiting.remove(&next) {
                next += 1;
                let mut prepared = std::mem::take(&mut c.prepared);
                for ((rec, row), p) in c.recs.iter().zip(&c.rows).zip(prepared.drain(..)) {
                    stats.read += 1;
                    let outcome = p.and_then(|p| {
                        let fields = c.fields(row);
                        let row = Row {
                            file,
                            line: rec.line,
                            text: c.text(row).unwrap_or_default(),
                            fields: fields.get(..header.names.len()).unwrap_or_default(),
                            index: &header.index,
                            columns,
                        };
                        on_row(&row, p)
                    });
                    match outcome {
                        Ok(()) => stats.accepted += 1,
                        Err(mut r) => {
                            stats.rejected += 1;
                            r.raw = c.raw(row);
                            rejects.push(r);
                        }
                    }
                }
                c.prepared = prepared;
                // The splitting thread may have finished; then the chunk is simply dropped.
                let _ = free_tx.send(c);
            }
        }
        drop(free_tx);
        splitter
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    });
    let (sha, bytes) = split.map_err(io_err)?;
    stats.sha256 = sha;
    stats.bytes = bytes;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_quotes_are_found_in_their_field() {
        assert_eq!(bare_quote(b"a,b,c"), None);
        assert_eq!(bare_quote(b"a,\"b,\"\"x\"\"\",c"), None);
        assert_eq!(bare_quote(b"a,\"b\""), None);
        assert_eq!(bare_quote(b"a,b\"c,d").map(|x| x.0), Some(1));
        assert_eq!(bare_quote(b"a,\"b\"c,d").map(|x| x.0), Some(1));
        assert_eq!(bare_quote(b"a,b,\"c").map(|x| x.0), Some(2));
        assert_eq!(bare_quote(b"\"a\"\"").map(|x| x.0), Some(0));
    }

    #[test]
    fn trim_is_str_trim() {
        let ends = [
            "", " ", "\t", "\n", "\r", "\u{b}", "\u{c}", "\u{1c}", "\u{85}", "\u{a0}", "\u{3000}",
            "a", "é", "-", "0",
        ];
        for a in ends {
            for b in ends {
                for mid in ["", "x", " y z "] {
                    let s = format!("{a}{mid}{b}");
                    assert_eq!(trim(&s), s.trim(), "{s:?}");
                }
            }
        }
    }

    /// Reads `data` at most `piece` bytes at a time.
    struct Pieces<'a>(&'a [u8], usize);

    impl Read for Pieces<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    type Fields = Vec<Vec<u8>>;
    type Split = (Option<Fields>, Vec<(Fields, u64, u64)>);

    /// The header, then each record's fields, position and line, as the splitting thread and the workers
    /// find them with `chunk`-byte chunks; and the file's SHA-256 and size.
    fn split_all(data: &[u8], chunk: usize, piece: usize) -> (Split, String, u64) {
        let mut sp = Splitter::new(Pieces(data, piece), chunk);
        let header = sp.header().unwrap();
        let (work_tx, work_rx) = mpsc::channel::<Chunk<()>>();
        let (free_tx, free_rx) = mpsc::channel();
        let mut recs = Vec::new();
        let (sha, bytes) = std::thread::scope(|s| {
            let h = s.spawn(move || sp.run(work_tx, free_rx, 3));
            for c in work_rx {
                let bytes = c.data.bytes();
                for r in &c.recs {
                    let raw = &bytes[r.first..r.end];
                    let (mut spans, mut out) = (Vec::new(), Vec::new());
                    if r.quoted {
                        split_quoted(raw, &mut spans, &mut out);
                    } else {
                        split_plain(raw, &mut spans);
                        out = raw.to_vec();
                    }
                    let fields = spans.iter().map(|s| out[s.start..s.end].to_vec()).collect();
                    recs.push((fields, r.pos, r.line));
                }
                let _ = free_tx.send(c);
            }
            h.join().unwrap().unwrap()
        });
        ((header, recs), sha, bytes)
    }

    /// The same from the csv crate, the line being the one of the record's first byte, past the line ends
    /// it starts on.
    fn reference(data: &[u8]) -> Split {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data);
        let mut all = Vec::new();
        let mut rec = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut rec).unwrap() {
            let pos = rec.position().unwrap().byte();
            let mut first = pos as usize;
            while matches!(data.get(first), Some(b'\r' | b'\n')) {
                first += 1;
            }
            let line = 1 + data[..first].iter().filter(|&&b| b == b'\n').count() as u64;
            all.push((rec.iter().map(<[u8]>::to_vec).collect(), pos, line));
        }
        let mut it = all.into_iter();
        let header = it.next().map(|h| h.0);
        (header, it.collect())
    }

    #[test]
    fn records_are_split_as_the_csv_crate_splits_them() {
        let alphabet: &[&[u8]] = &[
            b"a",
            b"b",
            b"a",
            b"7",
            b",",
            b",",
            b"\"",
            b"\"",
            b"\r",
            b"\n",
            b"\n",
            b"\r\n",
            b" ",
            b"\xC3",
            b"\xA9",
            b"\xEF\xBB\xBF",
            b"\"\"",
            b",\"",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\n\r\n".to_vec(),
            b"\xEF\xBB\xBFa,b\r\n1,2\r\n".to_vec(),
            b"\xEF\xBB".to_vec(),
            b"h\n\"a\nb\",\"c\"\"d\"e,f\"g\n\n\r\rx,\"".to_vec(),
        ];
        for _ in 0..2000 {
            let mut d = Vec::new();
            for _ in 0..next(40) {
                d.extend_from_slice(alphabet[next(alphabet.len() as u64) as usize]);
            }
            cases.push(d);
        }
        for d in &cases {
            let want = reference(d);
            for (chunk, piece) in [(4, 1), (5, 3), (7, 64), (64, 7), (CHUNK, usize::MAX)] {
                let (got, sha, bytes) = split_all(d, chunk, piece);
                assert_eq!(
                    got,
                    want,
                    "{:?} in chunks of {chunk}",
                    String::from_utf8_lossy(d)
                );
                let digest: String = Sha256::digest(d)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                assert_eq!((sha, bytes), (digest, d.len() as u64));
            }
        }
    }

    #[test]
    fn plain_records_split_at_every_comma() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            let raw: Vec<u8> = (0..len)
                .map(|i| {
                    [b',', b'a', b'\xAC', b'-', b'\x2B', b'\x2D'][(x >> (i % 60)) as usize % 6]
                })
                .collect();
            let mut spans = Vec::new();
            split_plain(&raw, &mut spans);
            let got: Vec<&[u8]> = spans.iter().map(|s| &raw[s.start..s.end]).collect();
            let want: Vec<&[u8]> = raw.split(|&b| b == b',').collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn long_records_cross_chunks() {
        let mut d = b"id,name\n".to_vec();
        let long = "x".repeat(100_000);
        for i in 0..50 {
            d.extend_from_slice(format!("{i},\"{long}\nq\"\"{i}\"\r\n{i},{long}\n").as_bytes());
        }
        let want = reference(&d);
        assert_eq!(want.1.len(), 100);
        for (chunk, piece) in [(16, 1000), (CHUNK, 4096), (CHUNK, usize::MAX)] {
            assert_eq!(split_all(&d, chunk, piece).0, want);
        }
    }
}
