//! Finds where a field sits in a JSON text, so that an error found after parsing (a node id out of
//! range, times out of order) can still name the line and column, like a parse error does.
//!
//! The text has already parsed as JSON when this runs, so the scanner only has to skip values, not to
//! validate them; on anything unexpected it stops and returns the deepest position it reached.

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// Renders a path as `faults[2].crash`.
pub fn render(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => {
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
        }
    }
    s
}

/// The 1-based line and column of the value at `path` (or of the deepest enclosing value found).
pub fn line_col(text: &str, path: &[Seg]) -> (usize, usize) {
    let mut sc = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    sc.ws();
    let mut best = sc.i;
    let mut depth = 0;
    while depth < path.len() {
        match sc.find(&path[depth]) {
            Some(pos) => {
                best = pos;
                depth += 1;
            }
            None => break,
        }
    }
    position(text, best)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn position(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// From the start of a container, moves to the start of the member `seg` and returns its offset.
    fn find(&mut self, seg: &Seg) -> Option<usize> {
        match (self.peek()?, seg) {
            (b'{', Seg::Key(want)) => {
                self.i += 1;
                loop {
                    self.ws();
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let key = self.string()?;
                    self.ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.i += 1;
                    self.ws();
                    if &key == want {
                        return Some(self.i);
                    }
                    self.skip_value()?;
                    self.ws();
                    if self.peek()? != b',' {
                        return None;
                    }
                    self.i += 1;
                }
            }
            (b'[', Seg::Index(want)) => {
                self.i += 1;
                let mut n = 0;
                loop {
                    self.ws();
                    if n == *want {
                        return Some(self.i);
                    }
                    self.skip_value()?;
                    self.ws();
                    if self.peek()? != b',' {
                        return None;
                    }
                    self.i += 1;
                    n += 1;
                }
            }
            _ => None,
        }
    }

    fn string(&mut self) -> Option<String> {
        let start = self.i;
        self.skip_string()?;
        serde_json::from_slice(&self.b[start..self.i]).ok()
    }

    fn skip_string(&mut self) -> Option<()> {
        self.i += 1; // opening quote
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\\' => self.i += 1,
                b'"' => return Some(()),
                _ => {}
            }
        }
        None
    }

    fn skip_value(&mut self) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                // Skip to the matching close, stepping over strings.
                let mut depth = 0usize;
                while let Some(c) = self.peek() {
                    match c {
                        b'"' => {
                            self.skip_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
                None
            }
            _ => {
                while let Some(c) = self.peek() {
                    if c == b',' || c == b'}' || c == b']' || c.is_ascii_whitespace() {
                        break;
                    }
                    self.i += 1;
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_fields() {
        let text = "{\n  \"a\": 1,\n  \"faults\": [\n    {\"at_ms\": 5},\n    {\"s\": \"x]\", \"crash\": 9}\n  ]\n}";
        let path = [
            Seg::Key("faults".into()),
            Seg::Index(1),
            Seg::Key("crash".into()),
        ];
        assert_eq!(line_col(text, &path), (5, 26));
        assert_eq!(render(&path), "faults[1].crash");
        // A missing key: the deepest enclosing value.
        let missing = [
            Seg::Key("faults".into()),
            Seg::Index(0),
            Seg::Key("zz".into()),
        ];
        assert_eq!(line_col(text, &missing), (4, 5));
    }
}
