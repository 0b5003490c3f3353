//! Text that is safe to show: on a terminal, in a table cell, in a file. Names and ids come from the input,
//! and nothing in them may move a cursor, reverse a line or run as a spreadsheet formula.

use std::borrow::Cow;

/// Whether `c` is an invisible formatting character that reorders or hides text: the bidirectional marks,
/// embeddings, overrides and isolates, zero-width characters and the byte-order mark.
pub fn is_bidi_or_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
    )
}

/// Text for a terminal, a table cell or a file: control characters become a space and bidi or invisible
/// formatting characters are dropped, so a name can neither move the cursor nor display reversed.
pub fn printable(s: &str) -> Cow<'_, str> {
    if s.chars()
        .all(|c| !c.is_control() && !is_bidi_or_invisible(c))
    {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .filter(|c| !is_bidi_or_invisible(*c))
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect(),
    )
}

/// [`printable`] line by line: a multi-line text output (a trace, a vet) keeps its line breaks, and nothing
/// in it can move a terminal's cursor or reverse what it shows.
pub fn printable_lines(s: &str) -> String {
    s.split('\n').map(printable).collect::<Vec<_>>().join("\n")
}

/// A cell a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, or a tab or carriage return)
/// gets a leading `'`, so it shows as text.
pub fn neutralise(s: &str) -> String {
    neutral(s).into_owned()
}

/// [`neutralise`], borrowing the cell when it needs no prefix (nearly always).
/// Control and bidi characters are stripped too ([`printable`]), so a name can neither break
/// a spreadsheet's row nor display reversed.
pub fn neutral(s: &str) -> Cow<'_, str> {
    let s = printable(s);
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        _ => s,
    }
}
