//! Streaming CSV reading shared by every canonical file: columns matched by header name, one pass over
//! `csv::ByteRecord`s, and strict accounting: every data row is accepted or rejected with a reason, so
//! `read = accepted + rejected` always holds.

use super::{FileError, Rejection};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;

/// Wraps a reader and hashes every byte that passes, so a file's SHA-256 comes from the same single pass
/// that parses it. It also notes where each line ends, because the csv crate's own line count goes wrong on
/// CRLF files, and a `FILE:LINE` must name the line a user sees in an editor.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    lines: std::rc::Rc<std::cell::RefCell<LineIndex>>,
}

/// Byte offsets of the line-end bytes (`\r`, `\n`) read but not yet passed by a record, and how many
/// `\n`s were passed.
#[derive(Default)]
pub struct LineIndex {
    pending: std::collections::VecDeque<(u64, u8)>,
    passed: u64,
}

impl LineIndex {
    /// The 1-based line of a record whose parse started at byte `offset`. The csv crate starts a record where
    /// the previous one stopped, which may be on line ends it then skips (the `\n` of a CRLF, blank lines),
    /// so those are stepped over first. Offsets must not decrease from one call to the next.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        let mut start = offset;
        while let Some(&(p, b)) = self.pending.front() {
            if p > start {
                break;
            }
            if p == start {
                start += 1;
            }
            self.pending.pop_front();
            if b == b'\n' {
                self.passed += 1;
            }
        }
        self.passed + 1
    }
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            lines: Default::default(),
        }
    }

    /// A handle on the line index, to look lines up while a parser owns the reader.
    pub fn lines(&self) -> std::rc::Rc<std::cell::RefCell<LineIndex>> {
        self.lines.clone()
    }

    pub fn finish(self) -> (String, u64) {
        let digest = self.hasher.finalize();
        (
            digest.iter().map(|b| format!("{b:02x}")).collect(),
            self.bytes,
        )
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let data = &buf[..n];
        self.hasher.update(data);
        let mut lines = self.lines.borrow_mut();
        // Line ends are about one byte in sixty: skip eight bytes at a time that hold none.
        let mut i = 0;
        while i < n {
            if let Some(w) = data.get(i..i + 8) {
                let mut word = [0u8; 8];
                word.copy_from_slice(w);
                if !has_line_end(u64::from_le_bytes(word)) {
                    i += 8;
                    continue;
                }
            }
            let end = (i + 8).min(n);
            for (j, &b) in data[i..end].iter().enumerate() {
                if b == b'\n' || b == b'\r' {
                    lines.pending.push_back((self.bytes + (i + j) as u64, b));
                }
            }
            i = end;
        }
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Whether any byte of `w` is `\n` or `\r` (the classic has-zero-byte test on `w` xor each of them). It may
/// answer true for a word without one, never false for a word with one; the caller checks byte by byte.
fn has_line_end(w: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI != 0;
    zero(w ^ (LO * b'\n' as u64)) || zero(w ^ (LO * b'\r' as u64))
}

/// A column a file may carry, and whether it must.
#[derive(Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
}

pub const fn req(name: &'static str) -> Column {
    Column {
        name,
        required: true,
    }
}

pub const fn opt(name: &'static str) -> Column {
    Column {
        name,
        required: false,
    }
}

/// One data row, with its fields checked to be UTF-8 and trimmed.
pub struct Row<'a> {
    pub file: &'a str,
    pub line: u64,
    /// The record's fields back to back, checked to be UTF-8 with every field starting on a character
    /// boundary, and where each field ends in it: each field is a slice, and no row needs a vector of its
    /// own. Both live in flat per-batch buffers, which the loading thread reads in order where a
    /// `csv::ByteRecord` would be a chain of pointers per row.
    text: &'a str,
    ends: &'a [usize],
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
        let start = match idx {
            0 => 0,
            _ => *self.ends.get(idx - 1)?,
        };
        let v = trim(self.text.get(start..*self.ends.get(idx)?)?);
        if v.is_empty() { None } else { Some(v) }
    }

    /// Like [`Row::get`] for a required column: an empty cell is a rejection.
    pub fn need(&self, i: usize) -> Result<&'a str, Rejection> {
        self.get(i)
            .ok_or_else(|| self.reject(i, "required value is empty"))
    }

    /// A rejection of this row, blamed on the `i`-th declared column.
    pub fn reject(&self, i: usize, reason: impl Into<String>) -> Rejection {
        let column = self.columns.get(i).map(|c| c.name).unwrap_or("-");
        Rejection {
            file: self.file.to_string(),
            line: self.line,
            column: column.to_string(),
            reason: reason.into(),
            raw: String::new(),
        }
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

fn raw_row(rec: &csv::ByteRecord) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    if w.write_byte_record(rec).is_err() {
        return String::new();
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}

/// The record's bytes as one `&str` when every field is UTF-8, else the first bad field and how far into it
/// the valid bytes go. The whole record is checked in one call; fields are looked at one by one only when
/// that fails, to name the culprit. A valid whole whose fields all start on a character boundary has valid
/// fields, because a field ends where the next one starts.
fn record_text(rec: &csv::ByteRecord) -> Result<&str, (usize, usize)> {
    let all = rec.as_slice();
    if let Ok(text) = std::str::from_utf8(all)
        && (all.is_ascii()
            || (0..rec.len()).all(|i| rec.range(i).is_some_and(|r| text.is_char_boundary(r.start))))
    {
        return Ok(text);
    }
    for (i, f) in rec.iter().enumerate() {
        if let Err(e) = std::str::from_utf8(f) {
            return Err((i, e.valid_up_to()));
        }
    }
    // Unreachable: fields that are each valid make a valid whole with a boundary at each field's start.
    Err((0, 0))
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

fn read_header(file: &str, rec: &csv::ByteRecord, columns: &[Column]) -> Result<Header, FileError> {
    // The header: trimmed, case-insensitive, a UTF-8 BOM removed.
    let mut header: Vec<String> = Vec::with_capacity(rec.len());
    // Bytes before the current field: the fields so far and their separators (headers are not quoted).
    let mut before = rec.position().map(|p| p.byte()).unwrap_or(0);
    for (i, raw) in rec.iter().enumerate() {
        let f = if i == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let skipped = (raw.len() - f.len()) as u64;
        let s = std::str::from_utf8(f).map_err(|e| FileError::Encoding {
            file: file.to_string(),
            line: 1,
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
                file: file.to_string(),
                column: h.clone(),
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
            file: file.to_string(),
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

/// Records handed from the parsing thread to the loading one, with each record's line and what `prepare`
/// made of it. The records' buffers go back and forth instead of being allocated per row.
struct Batch<P> {
    recs: Vec<csv::ByteRecord>,
    lines: Vec<u64>,
    prepared: Vec<Result<P, Rejection>>,
    flat: Flat,
}

/// The text of the prepared rows and their field ends (see [`Row`]), and for each row where its text
/// starts and ends and where its field ends start.
#[derive(Default)]
struct Flat {
    text: String,
    ends: Vec<usize>,
    spans: Vec<(usize, usize, usize)>,
}

const BATCH: usize = 1024;

/// What the parsing thread sends: the header once, then batches of rows.
enum Msg<P> {
    Header(Header),
    Rows(Batch<P>),
}

/// Reads one CSV file: matches the header against `columns`, then for every data row calls `prepare` and,
/// if that accepts it, `on_row` with its result. A row that either rejects (or that is ragged, or not
/// UTF-8) is pushed to `rejects`.
///
/// Two threads share the work. One reads, hashes and parses the CSV, finds each row's line and runs
/// `prepare`, which must therefore depend only on the row and on state that no row of this file changes
/// (parsing values, looking up parties); the calling thread runs `on_row` on the rows in file order, for
/// what does depend on earlier rows (claiming ids, appending). Rows, rejections and their order are those
/// of a single pass.
pub fn read_table<R, P, F, G>(
    file: &str,
    input: R,
    columns: &[Column],
    rejects: &mut Vec<Rejection>,
    prepare: F,
    mut on_row: G,
) -> Result<FileStats, FileError>
where
    R: Read + Send,
    P: Send,
    F: Fn(&Row) -> Result<P, Rejection> + Sync,
    G: FnMut(&Row, P) -> Result<(), Rejection>,
{
    let mut stats = FileStats {
        file: file.to_string(),
        ..Default::default()
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Msg<P>>(4);
    let (back_tx, back_rx) = std::sync::mpsc::channel::<Batch<P>>();
    let parsed = std::thread::scope(|scope| {
        let parser = scope.spawn(|| parse_rows(file, input, columns, &prepare, tx, back_rx));
        let mut header: Option<Header> = None;
        for msg in rx {
            let mut batch = match msg {
                Msg::Header(h) => {
                    stats.unknown_columns = h.unknown.clone();
                    header = Some(h);
                    continue;
                }
                Msg::Rows(b) => b,
            };
            let Some(h) = &header else { continue };
            let width = h.names.len();
            for (((rec, &line), prepared), &(t0, t1, e0)) in batch
                .recs
                .iter()
                .zip(&batch.lines)
                .zip(batch.prepared.drain(..))
                .zip(&batch.flat.spans)
            {
                stats.read += 1;
                let outcome = prepared.and_then(|p| {
                    let row = Row {
                        file,
                        line,
                        text: batch.flat.text.get(t0..t1).unwrap_or(""),
                        ends: batch.flat.ends.get(e0..e0 + width).unwrap_or(&[]),
                        index: &h.index,
                        columns,
                    };
                    on_row(&row, p)
                });
                match outcome {
                    Ok(()) => stats.accepted += 1,
                    Err(mut r) => {
                        stats.rejected += 1;
                        r.raw = raw_row(rec);
                        rejects.push(r);
                    }
                }
            }
            batch.lines.clear();
            // The parser may have finished; then the batch is simply dropped.
            let _ = back_tx.send(batch);
        }
        parser
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    });
    let (sha, bytes) = parsed?;
    stats.sha256 = sha;
    stats.bytes = bytes;
    Ok(stats)
}

/// The parsing thread of [`read_table`]: the header, then every row prepared, in batches; it ends with the
/// file's SHA-256 and size, or the error that stopped it.
fn parse_rows<R: Read, P, F>(
    file: &str,
    input: R,
    columns: &[Column],
    prepare: &F,
    tx: std::sync::mpsc::SyncSender<Msg<P>>,
    back: std::sync::mpsc::Receiver<Batch<P>>,
) -> Result<(String, u64), FileError>
where
    F: Fn(&Row) -> Result<P, Rejection>,
{
    let mut hashing = HashingReader::new(input);
    let lines = hashing.lines();
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        FileError::Csv {
            file: file.to_string(),
            line,
            message: e.to_string(),
        }
    };
    {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(&mut hashing);
        let mut rec = csv::ByteRecord::new();
        if !rdr.read_byte_record(&mut rec).map_err(csv_err)? {
            let expected: Vec<&str> = columns
                .iter()
                .filter(|c| c.required)
                .map(|c| c.name)
                .collect();
            return Err(FileError::Empty {
                file: file.to_string(),
                expected: expected.join(", "),
            });
        }
        let header = read_header(file, &rec, columns)?;
        if tx.send(Msg::Header(header.clone())).is_err() {
            return Ok((String::new(), 0));
        }
        let mut done = false;
        while !done {
            let mut batch = back.try_recv().unwrap_or_else(|_| Batch {
                recs: Vec::new(),
                lines: Vec::new(),
                prepared: Vec::new(),
                flat: Flat::default(),
            });
            batch.lines.clear();
            batch.prepared.clear();
            batch.flat.text.clear();
            batch.flat.ends.clear();
            batch.flat.spans.clear();
            let mut failed = None;
            while batch.lines.len() < BATCH {
                let n = batch.lines.len();
                if batch.recs.len() == n {
                    batch.recs.push(csv::ByteRecord::new());
                }
                match rdr.read_byte_record(&mut batch.recs[n]) {
                    Ok(true) => {}
                    Ok(false) => {
                        done = true;
                        break;
                    }
                    Err(e) => {
                        failed = Some(csv_err(e));
                        break;
                    }
                }
                let rec = &batch.recs[n];
                let pos = rec.position().map_or(0, |p| p.byte());
                let line = lines.borrow_mut().line_at(pos);
                batch.lines.push(line);
                let row = check_row(
                    file,
                    line,
                    pos,
                    rec,
                    &header,
                    columns,
                    prepare,
                    &mut batch.flat,
                );
                batch.prepared.push(row);
            }
            // Rows read before an error are loaded, as they would be in one pass, before it is reported.
            let sent = batch.lines.is_empty() || tx.send(Msg::Rows(batch)).is_ok();
            if let Some(e) = failed {
                return Err(e);
            }
            if !sent {
                return Ok((String::new(), 0));
            }
        }
    }
    Ok(hashing.finish())
}

/// The checks every row gets, then `prepare`: the number of fields, UTF-8. A row that passes them is
/// copied into the batch's flat buffers, where `prepare` and the loading thread read it.
#[allow(clippy::too_many_arguments)]
fn check_row<P, F>(
    file: &str,
    line: u64,
    pos: u64,
    rec: &csv::ByteRecord,
    header: &Header,
    columns: &[Column],
    prepare: &F,
    flat: &mut Flat,
) -> Result<P, Rejection>
where
    F: Fn(&Row) -> Result<P, Rejection>,
{
    // A rejected row has an empty span: the loading thread does not look at its fields.
    let at = flat.text.len();
    flat.spans.push((at, at, flat.ends.len()));
    let width = header.names.len();
    let mut n = rec.len();
    // Files whose every line ends in a comma carry one empty trailing cell more than the header.
    while n > width && rec.get(n - 1).is_some_and(|f| f.is_empty()) {
        n -= 1;
    }
    if n != width {
        let hint = if n > width {
            " (an unquoted ',' inside a value? quote values such as \"1,000\")"
        } else {
            ""
        };
        return Err(Rejection {
            file: file.to_string(),
            line,
            column: "-".into(),
            reason: format!("expected {width} fields, found {n}{hint}"),
            raw: String::new(),
        });
    }
    match record_text(rec) {
        Err((i, at)) => Err(Rejection {
            file: file.to_string(),
            line,
            column: header.names.get(i).cloned().unwrap_or_else(|| "-".into()),
            reason: format!(
                "not valid UTF-8 (byte {at} of this field; the row starts at byte offset {pos}); convert the file to UTF-8"
            ),
            raw: String::new(),
        }),
        Ok(text) => {
            let e0 = flat.ends.len();
            flat.text.push_str(text);
            flat.ends
                .extend((0..width).map(|i| rec.range(i).map_or(0, |r| r.end)));
            if let Some(span) = flat.spans.last_mut() {
                span.1 = flat.text.len();
            }
            prepare(&Row {
                file,
                line,
                text,
                ends: flat.ends.get(e0..).unwrap_or(&[]),
                index: &header.index,
                columns,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn line_end_words_are_found() {
        for i in 0..8 {
            for b in [b'\n', b'\r'] {
                let mut w = [b'a'; 8];
                w[i] = b;
                assert!(has_line_end(u64::from_le_bytes(w)));
            }
        }
        assert!(!has_line_end(u64::from_le_bytes(*b"abcdefgh")));
        assert!(!has_line_end(u64::from_le_bytes([
            0x8a, 0x8d, 0x0b, 0x0c, 0, 0xff, 0x0e, 0x09
        ])));
    }
}
