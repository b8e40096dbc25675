//! The space-time diagram: one self-contained HTML page (inline CSS, inline script, a canvas; no
//! network access) drawn from a [`Timeline`].
//!
//! The page's size is the fixed code (about 30 KB) plus the timeline's JSON, which the
//! [`TimelineOptions`] bound: at most `detail_items_max` detail items of at most `body_chars_max`
//! characters of body and [`super::timeline::LABEL_CHARS_MAX`] of label each, and `buckets` numbers
//! per lane, whatever the length of the run. [`page_bytes_max`] states the bound.

use super::timeline::{FAULTS_MAX, LABEL_CHARS_MAX, ROLES_MAX, Timeline, TimelineOptions};
use super::{ExportError, write_output};
use std::path::Path;

const TEMPLATE: &str = include_str!("view.html");
const STYLE: &str = include_str!("view.css");
const SCRIPT: &str = include_str!("view.js");

/// Renders the page for `timeline`.
pub fn render(timeline: &Timeline) -> String {
    let data = serde_json::to_string(timeline).unwrap_or_else(|_| "null".into());
    // The data sits in a <script> element: keep `</script>` and `<!--` from ending or confusing it.
    let data = data.replace('<', "\\u003c");
    let title = format!(
        "{} (seed {}) — distsim",
        escape_html(&timeline.meta.name),
        timeline.meta.seed
    );
    fill(
        TEMPLATE,
        &[
            ("{{TITLE}}", &title),
            ("{{STYLE}}", STYLE),
            ("{{SCRIPT}}", SCRIPT),
            ("{{DATA}}", &data),
        ],
    )
}

/// Replaces each placeholder of `template` in one pass, so that a value that happens to contain a
/// placeholder (a scenario named `{{SCRIPT}}`) is never expanded.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|v| v.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some((at, (key, value))) = values
        .iter()
        .filter_map(|kv| rest.find(kv.0).map(|at| (at, kv)))
        .min_by_key(|(at, _)| *at)
    {
        out.push_str(&rest[..at]);
        out.push_str(value);
        rest = &rest[at + key.len()..];
    }
    out.push_str(rest);
    out
}

/// Reads the trace at `trace`, renders its page and writes it to `out`. Returns the timeline drawn.
pub fn view_file(
    trace: &Path,
    out: &Path,
    options: &TimelineOptions,
) -> Result<Timeline, ExportError> {
    let timeline = Timeline::from_file(trace, options)?;
    write_output(out, render(&timeline).as_bytes())?;
    Ok(timeline)
}

/// An upper bound on the page's size in bytes for a run with `lanes` lanes, whatever its length.
/// JSON escapes can at worst sextuple a character (`\u00XX`), hence the factor on texts.
pub fn page_bytes_max(options: &TimelineOptions, lanes: usize) -> usize {
    let fixed = TEMPLATE.len() + STYLE.len() + SCRIPT.len() + 8 * 1024;
    let per_item = 6 * (options.body_chars_max + LABEL_CHARS_MAX) * 4 + 200;
    let per_bucket = (lanes + 1) * 11;
    let kept = (FAULTS_MAX + ROLES_MAX) * 64 + FAULTS_MAX * 6 * LABEL_CHARS_MAX;
    fixed + options.detail_items_max * per_item + options.buckets * per_bucket + lanes * 64 + kept
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_inside_values_are_not_expanded() {
        let out = fill("<{{A}}|{{B}}>", &[("{{A}}", "{{B}}"), ("{{B}}", "b")]);
        assert_eq!(out, "<{{B}}|b>");
    }
}
