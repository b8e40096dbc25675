//! Object shapes: how a format-3 trace writes message, timer, note and history bodies without
//! repeating their key names.
//!
//! A body is JSON. In a format-3 file every JSON object and array in a body is written one of three
//! ways:
//! - an **array** `[a, b]` is written `[0,a,b]` (a leading `0`), the empty array `[0]`;
//! - an **object whose shape is known** is written `[n,v1,v2,...]`: `n` (1, 2, ...) numbers its
//!   shape, the values follow in the shape's key order;
//! - any other object is written as itself, `{"type":"vote","term":3}`, and, if it has keys,
//!   **defines the next shape number**: its keys in order, plus, when its first value is a string of
//!   at most [`TAG_BYTES_MAX`] bytes, that value (the shape's *tag*, which the later objects of the
//!   shape then leave out: `{"type":"vote","term":3}` then `[1,4]` for `{"type":"vote","term":4}`).
//!   Internally tagged enums put their variant name first, so each variant gets a shape of its own.
//!
//! Definitions are implicit, in the order a reader meets the objects (an object is defined after the
//! values inside it), and stop once the book holds [`SHAPES_MAX`] shapes or
//! [`SHAPE_BYTES_MAX`] bytes of signatures; objects of a new shape are then written as themselves.
//! Strings, numbers, `true`, `false` and `null` are written as they are. Whitespace is dropped.
//!
//! A shape's *signature*, which the byte bound counts, is its key tokens as written (quotes
//! included) one after another, then `=` and the tag's token if it has a tag. Both the writer and
//! the reader hold at most the bounded book: memory does not grow with the run.

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// The most shapes a trace defines.
pub const SHAPES_MAX: usize = 1024;
/// The most bytes of shape signatures a trace defines.
pub const SHAPE_BYTES_MAX: usize = 64 * 1024;
/// The longest first string value (its JSON token, quotes included) folded into a shape as its tag.
pub const TAG_BYTES_MAX: usize = 34;
/// The deepest nesting of arrays and objects a reader follows in a body.
pub const DEPTH_MAX: usize = 128;

/// A body that does not decode: an unknown shape, a wrong number of values, an array without its
/// leading `0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// The byte offset in the body where the problem is.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (byte {} of the body)", self.message, self.at + 1)
    }
}

impl std::error::Error for ShapeError {}

fn skip_ws(src: &[u8], mut at: usize) -> usize {
    while at < src.len() && matches!(src[at], b' ' | b'\t' | b'\n' | b'\r') {
        at += 1;
    }
    at
}

/// The end of the string token starting at `at` (which is `"`).
fn string_end(src: &[u8], at: usize) -> usize {
    let mut i = at + 1;
    while let Some(k) = memchr::memchr2(b'"', b'\\', &src[i.min(src.len())..]) {
        if src[i + k] == b'"' {
            return i + k + 1;
        }
        i += k + 2;
    }
    src.len()
}

/// The end of the value starting at `at` (after whitespace).
fn value_end(src: &[u8], at: usize) -> usize {
    let at = skip_ws(src, at);
    match src.get(at) {
        Some(b'"') => string_end(src, at),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = at;
            while i < src.len() {
                match src[i] {
                    b'"' => {
                        i = string_end(src, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            src.len()
        }
        _ => {
            let mut i = at;
            while i < src.len()
                && !matches!(src[i], b',' | b']' | b'}' | b' ' | b'\n' | b'\t' | b'\r')
            {
                i += 1;
            }
            i
        }
    }
}

/// Whether a book of `count` shapes and `bytes` signature bytes takes one more of `sig_len` bytes.
fn has_room(count: usize, bytes: usize, sig_len: usize) -> bool {
    count < SHAPES_MAX && bytes + sig_len <= SHAPE_BYTES_MAX
}

/// The writer's shapes: signature to number.
#[derive(Default)]
pub struct ShapeWriter {
    /// Each shape's signature, by number minus one.
    sigs: Vec<Box<[u8]>>,
    /// Signature hash (XXH3) to number; on a collision, the later shape is found by a scan.
    by_hash: BTreeMap<u64, u32>,
    bytes: usize,
    /// Reused: the signature being looked up.
    sig: Vec<u8>,
    /// Reused: an object's values while it is rewritten with its keys.
    values: Vec<u8>,
    /// Reused, as a stack: for each member of the objects under way, its key's place in the source
    /// and its value's place in the output.
    fields: Vec<[usize; 4]>,
}

impl ShapeWriter {
    /// Appends the format-3 form of `json` (compact JSON, as `serde_json` writes it) to `out`.
    pub fn write(&mut self, json: &[u8], out: &mut Vec<u8>) {
        self.value(json, 0, out);
    }

    /// The number of the shape with signature `self.sig`.
    fn find(&self, hash: u64) -> Option<u32> {
        let id = *self.by_hash.get(&hash)?;
        if *self.sigs[id as usize - 1] == *self.sig {
            return Some(id);
        }
        // A hash collision: rare enough for a scan.
        (1..=self.sigs.len() as u32).find(|&n| *self.sigs[n as usize - 1] == *self.sig)
    }

    /// Writes the value at `at`; returns where it ends in `src`. One pass: an object's values are
    /// written first, then its shape number is put in front of them (or its keys between them).
    fn value(&mut self, src: &[u8], at: usize, out: &mut Vec<u8>) -> usize {
        let at = skip_ws(src, at);
        match src.get(at) {
            Some(b'{') => self.object(src, at, out),
            Some(b'[') => {
                out.extend_from_slice(b"[0");
                let mut i = skip_ws(src, at + 1);
                if src.get(i) == Some(&b']') {
                    out.push(b']');
                    return i + 1;
                }
                loop {
                    out.push(b',');
                    i = skip_ws(src, self.value(src, i, out));
                    match src.get(i) {
                        Some(b',') => i += 1,
                        _ => {
                            out.push(b']');
                            return i + 1;
                        }
                    }
                }
            }
            _ => {
                let end = value_end(src, at);
                out.extend_from_slice(&src[at..end]);
                end
            }
        }
    }

    fn object(&mut self, src: &[u8], at: usize, out: &mut Vec<u8>) -> usize {
        let base = self.fields.len();
        let start = out.len();
        let mut i = skip_ws(src, at + 1);
        while src.get(i) == Some(&b'"') {
            let key_end = string_end(src, i);
            let value_at = skip_ws(src, skip_ws(src, key_end) + 1);
            if self.fields.len() > base {
                out.push(b',');
            }
            let written = out.len();
            let value_stop = self.value(src, value_at, out);
            self.fields.push([i, key_end, written, out.len()]);
            i = skip_ws(src, value_stop);
            if src.get(i) == Some(&b',') {
                i = skip_ws(src, i + 1);
            }
        }
        let end = i + 1;
        let count = self.fields.len() - base;
        if count == 0 {
            out.extend_from_slice(b"{}");
            return end;
        }
        self.sig.clear();
        for f in &self.fields[base..] {
            self.sig.extend_from_slice(&src[f[0]..f[1]]);
        }
        // Strings are written as they are, so the first value's output is its source token.
        let first = self.fields[base];
        let tagged = out[first[2]] == b'"' && first[3] - first[2] <= TAG_BYTES_MAX;
        if tagged {
            self.sig.push(b'=');
            self.sig.extend_from_slice(&out[first[2]..first[3]]);
        }
        let hash = xxhash_rust::xxh3::xxh3_64(&self.sig);
        match self.find(hash) {
            Some(id) => {
                // `v1,v2,...` becomes `[id,v1,v2,...]`, without the tag.
                let mut head = [0u8; 16];
                head[0] = b'[';
                let mut number = itoa::Buffer::new();
                let digits = number.format(id).as_bytes();
                head[1..1 + digits.len()].copy_from_slice(digits);
                let mut head_len = 1 + digits.len();
                let cut = match (tagged, count) {
                    (true, 1) => out.len(),
                    (true, _) => self.fields[base + 1][2],
                    (false, _) => start,
                };
                if cut < out.len() {
                    head[head_len] = b',';
                    head_len += 1;
                }
                // Replace `out[start..cut]` with the head, moving the values once.
                let len = out.len();
                if head_len > cut - start {
                    let grow = head_len - (cut - start);
                    out.resize(len + grow, 0);
                    out.copy_within(cut..len, cut + grow);
                } else {
                    let shrink = (cut - start) - head_len;
                    out.copy_within(cut..len, cut - shrink);
                    out.truncate(len - shrink);
                }
                out[start..start + head_len].copy_from_slice(&head[..head_len]);
                out.push(b']');
            }
            None => {
                // Written as itself, keys and all: it defines the next shape.
                self.values.clear();
                self.values.extend_from_slice(&out[start..]);
                out.truncate(start);
                out.push(b'{');
                for (k, f) in self.fields[base..].iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(&src[f[0]..f[1]]);
                    out.push(b':');
                    out.extend_from_slice(&self.values[f[2] - start..f[3] - start]);
                }
                out.push(b'}');
                if has_room(self.sigs.len(), self.bytes, self.sig.len()) {
                    self.bytes += self.sig.len();
                    self.sigs.push(self.sig.as_slice().into());
                    let id = self.sigs.len() as u32;
                    self.by_hash.entry(hash).or_insert(id);
                }
            }
        }
        self.fields.truncate(base);
        end
    }
}

/// One shape, as the reader keeps it.
struct Shape {
    /// The key tokens, quotes included.
    keys: Vec<Box<[u8]>>,
    /// The tag's token, if the shape has one.
    tag: Option<Box<[u8]>>,
}

/// The reader's shapes, by number.
#[derive(Default)]
pub struct ShapeReader {
    /// Shared, so that a shaped object's keys stay readable while its values define more shapes.
    shapes: Vec<Rc<Shape>>,
    bytes: usize,
}

impl ShapeReader {
    /// Appends the JSON that the format-3 body `body` stands for to `out`. `body` must be valid
    /// JSON (the caller parsed its line); what is checked here is the shapes.
    pub fn read(&mut self, body: &[u8], out: &mut Vec<u8>) -> Result<(), ShapeError> {
        let end = self.value(body, 0, out, 0)?;
        let end = skip_ws(body, end);
        if end < body.len() {
            return Err(ShapeError {
                at: end,
                message: "text after the body".into(),
            });
        }
        Ok(())
    }

    fn value(
        &mut self,
        src: &[u8],
        at: usize,
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Result<usize, ShapeError> {
        let at = skip_ws(src, at);
        if depth >= DEPTH_MAX && matches!(src.get(at), Some(b'{' | b'[')) {
            return Err(ShapeError {
                at,
                message: format!("nested more than {DEPTH_MAX} deep"),
            });
        }
        match src.get(at) {
            Some(b'{') => self.object(src, at, out, depth + 1),
            Some(b'[') => self.array(src, at, out, depth + 1),
            Some(_) => {
                let end = value_end(src, at);
                out.extend_from_slice(&src[at..end]);
                Ok(end)
            }
            None => Err(ShapeError {
                at,
                message: "a value is missing".into(),
            }),
        }
    }

    fn object(
        &mut self,
        src: &[u8],
        at: usize,
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Result<usize, ShapeError> {
        out.push(b'{');
        let mut keys: Vec<Box<[u8]>> = Vec::new();
        let mut tag: Option<Box<[u8]>> = None;
        let mut i = skip_ws(src, at + 1);
        while src.get(i) == Some(&b'"') {
            let key_end = string_end(src, i);
            if !keys.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(&src[i..key_end]);
            out.push(b':');
            let value_at = skip_ws(src, skip_ws(src, key_end) + 1);
            let value_stop = self.value(src, value_at, out, depth)?;
            if keys.is_empty() && src[value_at] == b'"' && value_stop - value_at <= TAG_BYTES_MAX {
                tag = Some(src[value_at..value_stop].into());
            }
            keys.push(src[i..key_end].into());
            i = skip_ws(src, value_stop);
            if src.get(i) == Some(&b',') {
                i = skip_ws(src, i + 1);
            }
        }
        out.push(b'}');
        if !keys.is_empty() {
            let sig_len = keys.iter().map(|k| k.len()).sum::<usize>()
                + tag.as_ref().map_or(0, |t| 1 + t.len());
            if has_room(self.shapes.len(), self.bytes, sig_len) {
                self.bytes += sig_len;
                self.shapes.push(Rc::new(Shape { keys, tag }));
            }
        }
        Ok(i + 1)
    }

    fn array(
        &mut self,
        src: &[u8],
        at: usize,
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Result<usize, ShapeError> {
        let head = skip_ws(src, at + 1);
        let mut i = head;
        let mut number: u64 = 0;
        while let Some(d) = src.get(i).filter(|d| d.is_ascii_digit()) {
            number = number
                .saturating_mul(10)
                .saturating_add(u64::from(d - b'0'));
            i += 1;
        }
        let mut i = skip_ws(src, i);
        if i == head || !matches!(src.get(i), Some(b',' | b']')) {
            return Err(ShapeError {
                at: head,
                message: "an array in a body starts with 0, a shaped object with its shape number"
                    .into(),
            });
        }
        if number == 0 {
            out.push(b'[');
            let mut first = true;
            while src.get(i) == Some(&b',') {
                if !first {
                    out.push(b',');
                }
                first = false;
                i = skip_ws(src, self.value(src, i + 1, out, depth)?);
            }
            out.push(b']');
            return Ok(i + 1);
        }
        let Some(shape) = usize::try_from(number - 1)
            .ok()
            .and_then(|k| self.shapes.get(k))
            .cloned()
        else {
            return Err(ShapeError {
                at: head,
                message: format!(
                    "shape {number} is not defined (the file defines {} so far)",
                    self.shapes.len()
                ),
            });
        };
        let wrong = |more: bool| ShapeError {
            at: head,
            message: format!(
                "shape {number} has {} keys, the object {} values",
                shape.keys.len(),
                if more { "more" } else { "fewer" }
            ),
        };
        out.push(b'{');
        for (k, key) in shape.keys.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            out.push(b':');
            match (&shape.tag, k) {
                (Some(tag), 0) => out.extend_from_slice(tag),
                _ if src.get(i) == Some(&b',') => {
                    i = skip_ws(src, self.value(src, i + 1, out, depth)?);
                }
                _ => return Err(wrong(false)),
            }
        }
        if src.get(i) != Some(&b']') {
            return Err(wrong(true));
        }
        out.push(b'}');
        Ok(i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes each body with one writer, reads each back with one reader; returns the written forms.
    fn round_trip(bodies: &[&str]) -> Vec<String> {
        let (mut w, mut r) = (ShapeWriter::default(), ShapeReader::default());
        bodies
            .iter()
            .map(|body| {
                let mut written = Vec::new();
                w.write(body.as_bytes(), &mut written);
                let mut back = Vec::new();
                r.read(&written, &mut back).unwrap();
                assert_eq!(String::from_utf8(back).unwrap(), *body);
                String::from_utf8(written).unwrap()
            })
            .collect()
    }

    #[test]
    fn keys_are_written_once_per_shape_and_tags_once_per_variant() {
        let written = round_trip(&[
            r#"{"type":"vote","term":3,"granted":true}"#,
            r#"{"type":"vote","term":4,"granted":false}"#,
            r#"{"type":"ack","term":4,"granted":false}"#,
            r#"{"type":"ack","term":5,"granted":true}"#,
        ]);
        assert_eq!(
            written,
            [
                r#"{"type":"vote","term":3,"granted":true}"#,
                "[1,4,false]",
                r#"{"type":"ack","term":4,"granted":false}"#,
                "[2,5,true]",
            ]
        );
    }

    #[test]
    fn nested_objects_arrays_and_odd_strings_come_back_exactly() {
        let written = round_trip(&[
            r#"{"entries":[{"term":1,"op":{"f":"put","key":"k\"1]","value":"[1,{}]"}},{"term":1,"op":{"f":"put","key":"k2","value":null}}],"n":[],"m":{},"x":[[1,2],[]]}"#,
            r#"{"entries":[{"term":2,"op":{"f":"get","key":"k2"}}],"n":[1.5e3,-2],"m":{},"x":[]}"#,
            r#"{"entries":[{"term":2,"op":{"f":"put","key":"k","value":"v"}}],"n":[],"m":{},"x":[]}"#,
            r#""just a string""#,
            "42",
            "null",
            r#"{"only":"a tag that is far too long to be folded into its shape"}"#,
            r#"{"only":"a tag that is far too long to be folded into its shape"}"#,
        ]);
        // The third body is all shapes: the entry, its op (tag `put`) and the outer object.
        assert!(written[2].starts_with("[3,[0,[2,2,[1,"), "{}", written[2]);
        assert_eq!(
            written[7],
            r#"[5,"a tag that is far too long to be folded into its shape"]"#
        );
    }

    #[test]
    fn once_the_book_is_full_new_shapes_are_written_as_themselves() {
        let bodies: Vec<String> = (0..SHAPES_MAX + 5)
            .map(|i| format!(r#"{{"k{i}":1}}"#))
            .collect();
        let mut all: Vec<&str> = bodies.iter().map(String::as_str).collect();
        all.extend(bodies.iter().map(String::as_str));
        let written = round_trip(&all);
        let n = bodies.len();
        assert_eq!(written[n], "[1,1]");
        assert_eq!(written[n + SHAPES_MAX - 1], format!("[{SHAPES_MAX},1]"));
        assert_eq!(
            written[n + SHAPES_MAX],
            bodies[SHAPES_MAX],
            "past the bound"
        );
    }

    #[test]
    fn bad_shape_references_are_errors() {
        let mut r = ShapeReader::default();
        let mut out = Vec::new();
        r.read(br#"{"a":1,"b":2}"#, &mut out).unwrap();
        for (body, words) in [
            ("[2,1,2]", "shape 2 is not defined"),
            ("[1,1]", "fewer values"),
            ("[1,1,2,3]", "more values"),
            ("[]", "starts with 0"),
            (r#"["x"]"#, "starts with 0"),
            ("[1.5,1]", "starts with 0"),
        ] {
            let err = r.read(body.as_bytes(), &mut Vec::new()).unwrap_err();
            assert!(err.message.contains(words), "{body}: {err}");
        }
        let mut out = Vec::new();
        r.read(b"[1, 7 ,\t[0, 1 ]]", &mut out).unwrap();
        assert_eq!(out, br#"{"a":7,"b":[1]}"#);
        let deep = format!(
            "{}1{}",
            "[0,".repeat(DEPTH_MAX + 1),
            "]".repeat(DEPTH_MAX + 1)
        );
        let err = r.read(deep.as_bytes(), &mut Vec::new()).unwrap_err();
        assert!(err.message.contains("deep"), "{err}");
        let fine = format!("{}1{}", "[0,".repeat(DEPTH_MAX), "]".repeat(DEPTH_MAX));
        r.read(fine.as_bytes(), &mut Vec::new()).unwrap();
    }
}
