//! Text from users (names in scenarios, paths, lines of files) made safe to print: control characters
//! (ANSI escapes, newlines, NUL) are shown escaped, so no input can forge a line of a report such as
//! `outcome PASS`, move the cursor or hide text.

use std::borrow::Cow;

/// `text` with every control character escaped (`\u{1b}`, `\n`, `\0`); unchanged when it has none.
pub fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// At most `chars_max` characters of `text`, escaped, with a note of how much was left out: for echoing
/// lines of files that may be huge.
pub fn excerpt(text: &str, chars_max: usize) -> String {
    let mut chars = text.char_indices();
    match chars.nth(chars_max) {
        None => escaped(text).into_owned(),
        Some((cut, _)) => format!(
            "{}… ({} more bytes)",
            escaped(&text[..cut]),
            text.len() - cut
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_not_copied() {
        assert!(matches!(escaped("raft basic"), Cow::Borrowed("raft basic")));
        assert_eq!(
            escaped("x\n\u{1b}[32moutcome PASS\0"),
            "x\\n\\u{1b}[32moutcome PASS\\u{0}"
        );
    }

    #[test]
    fn an_excerpt_says_how_much_it_left_out() {
        assert_eq!(excerpt("abc", 5), "abc");
        assert_eq!(excerpt("abcdef", 3), "abc… (3 more bytes)");
        assert_eq!(excerpt("é\u{7}xyz", 2), "é\\u{7}… (3 more bytes)");
    }
}
