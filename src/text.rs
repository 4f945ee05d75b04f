//! Text from elsewhere (the AUR, advisories, OSV, a client's name) made
//! safe to print: C0 and C1 control characters and DEL are removed, so an
//! escape sequence in a package description cannot move the cursor,
//! retitle the terminal or hide what follows. Tabs and line breaks are
//! kept by `clean` (descriptions have them) and become spaces in
//! `one_line`.

use std::borrow::Cow;

fn is_control(c: char, keep_breaks: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_breaks,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        _ => false,
    }
}

/// `text` without control characters other than tabs and line breaks.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_control(c, true)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().filter(|c| !is_control(*c, true)).collect())
}

/// `text` on one line: line breaks and tabs become spaces, other control
/// characters go.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_control(c, false)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter_map(|c| match c {
                '\n' | '\t' | '\r' => Some(' '),
                c if is_control(c, false) => None,
                c => Some(c),
            })
            .collect(),
    )
}

/// Cleans `text` in place.
pub fn clean_in_place(text: &mut String) {
    if let Cow::Owned(cleaned) = clean(text) {
        *text = cleaned;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_c1_controls_go_line_breaks_stay() {
        assert_eq!(
            clean("a\u{1b}]0;pwned\u{7}b\u{9b}2Jc\nd\te\u{7f}"),
            "a]0;pwnedb2Jc\nd\te"
        );
        assert!(matches!(clean("plain text"), Cow::Borrowed(_)));
        assert_eq!(one_line("two\nlines\r\u{1b}[1m"), "two lines [1m");
    }
}
