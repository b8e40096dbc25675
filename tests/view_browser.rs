//! The space-time page in a real browser: headless Chromium loads it, runs its script, and the test
//! reads back from the DOM what the script drew (the canvas carries its counts as `data-*`
//! attributes) and that no script error happened.
//!
//! Needs Chromium (`chromium`, `chromium-browser` or `google-chrome` on the PATH, or
//! `DISTSIM_CHROMIUM`). `.ci/run` installs Debian's `chromium`; under CI a missing browser fails the
//! test, elsewhere it is skipped with a message.

use distsim::trace::export::TimeWindow;
use distsim::trace::export::html::view_file;
use distsim::trace::export::timeline::TimelineOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn browser() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DISTSIM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|p| p.is_file())
}

fn browser_or_skip() -> Option<PathBuf> {
    let found = browser();
    if found.is_none() {
        // `.ci/run` installs Chromium and sets DISTSIM_BROWSER_MISSING only when the install
        // itself failed (it says so loudly); otherwise CI without a browser is a failure.
        assert!(
            std::env::var_os("CI").is_none()
                || std::env::var_os("DISTSIM_BROWSER_MISSING").is_some(),
            "CI needs Chromium for the browser test: apt-get install -y chromium"
        );
        eprintln!("skipped: no Chromium on the PATH (set DISTSIM_CHROMIUM or install chromium)");
    }
    found
}

/// The DOM after the page's scripts ran, as the browser serialises it.
fn dump_dom(chromium: &Path, page: &Path, fragment: &str, profile: &Path) -> String {
    let url = format!("file://{}{fragment}", page.display());
    let dom_file = profile.with_extension("dom.html");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--window-size=1400,900",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        // A file, not a pipe: a page's DOM can be larger than a pipe holds before it is read.
        .stdout(std::fs::File::create(&dom_file).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    // A hung browser must fail the test, not hang it: give it 90 s.
    for _ in 0..900 {
        if child.try_wait().unwrap().is_some() {
            return std::fs::read_to_string(&dom_file).unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("chromium did not finish loading {url}");
}

/// The value of attribute `name` on the first element with `id`.
fn attr(dom: &str, id: &str, name: &str) -> Option<String> {
    let at = dom.find(&format!("id=\"{id}\""))?;
    let start = dom[..at].rfind('<')?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let key = format!(" {name}=\"");
    let v = tag.find(&key)? + key.len();
    Some(tag[v..v + tag[v..].find('"')?].to_string())
}

fn body_attr(dom: &str, name: &str) -> Option<String> {
    let start = dom.find("<body")?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let key = format!(" {name}=\"");
    let v = tag.find(&key)? + key.len();
    Some(tag[v..v + tag[v..].find('"')?].to_string())
}

fn count(dom: &str, name: &str) -> u64 {
    attr(dom, "cv", &format!("data-{name}"))
        .unwrap_or_else(|| panic!("the canvas has no data-{name}: the script did not draw"))
        .parse()
        .unwrap()
}

#[test]
fn the_page_draws_lanes_arrows_faults_and_the_violation_without_script_errors() {
    let Some(chromium) = browser_or_skip() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("distsim-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("small.html");
    view_file(
        Path::new("tests/data/views/small.trace.jsonl"),
        &page,
        &TimelineOptions::default(),
    )
    .unwrap();

    // The opening view: centred on the violation, everything of this short run in sight.
    let dom = dump_dom(&chromium, &page, "", &dir.join("profile"));
    assert_eq!(body_attr(&dom, "data-ready").as_deref(), Some("1"), "{dom}");
    assert_eq!(body_attr(&dom, "data-errors"), None, "script errors: {dom}");
    assert_eq!(count(&dom, "lanes"), 4);
    assert_eq!(
        count(&dom, "arrows"),
        6,
        "five messages and one duplicate copy"
    );
    assert_eq!(count(&dom, "dropped"), 2);
    assert_eq!(count(&dom, "duplicates"), 1);
    assert_eq!(count(&dom, "bands"), 3, "partition, crash, heal");
    assert_eq!(count(&dom, "ops"), 1);
    assert_eq!(count(&dom, "violation"), 1);
    assert_eq!(attr(&dom, "cv", "data-mode").as_deref(), Some("arrows"));
    assert!(dom.contains("two leaders in term 1: nodes 0 and 2"));
    assert!(
        !dom.contains("id=\"violation-box\" hidden"),
        "the violation box is shown"
    );
    for kind in [
        "request_vote",
        "request_vote_reply",
        "client_request",
        "append_entries",
    ] {
        assert!(
            dom.contains(&format!("{kind}<span class=\"n\">")),
            "legend lacks {kind}"
        );
    }

    // The hover card of the duplicated vote (the third message copy) shows the whole message.
    let dom = dump_dom(
        &chromium,
        &page,
        "#from=0&to=60&hover=msg:2",
        &dir.join("profile"),
    );
    let card = &dom[dom.find("id=\"card\"").expect("a card")..];
    let card = &card[..card.find("</div>").unwrap()];
    assert!(!card.contains("hidden"), "the card is shown: {card}");
    assert!(card.contains("<b>request_vote</b>n0 → n2"), "{card}");
    assert!(card.contains("duplicate copy"), "{card}");
    assert!(
        card.contains("type: \"request_vote\"\nterm: 1\nlast_log_index: 0"),
        "the full message: {card}"
    );

    // A window before anything happened draws no arrow and no violation.
    let dom = dump_dom(&chromium, &page, "#from=1&to=5", &dir.join("profile"));
    assert_eq!(count(&dom, "arrows"), 0);
    assert_eq!(count(&dom, "violation"), 0);
    assert_eq!(count(&dom, "lanes"), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_long_run_zoomed_out_is_drawn_as_densities() {
    let Some(chromium) = browser_or_skip() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("distsim-browser-long-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("long.jsonl");
    let mut text = String::from(
        r#"{"kind":"header","format":1,"distsim":"0","seed":1,"scenario":{"name":"long","nodes":2,"clients":0,"max_time_ms":5000}}"#,
    );
    text.push('\n');
    for i in 0..5000u64 {
        let t = i * 1_000_000;
        text.push_str(&format!(
            "{{\"kind\":\"send\",\"e\":{i},\"t\":{t},\"id\":{i},\"from\":0,\"to\":1,\"msg\":{{\"type\":\"tick\"}}}}\n{{\"kind\":\"deliver\",\"e\":{i},\"t\":{},\"id\":{i},\"from\":0,\"to\":1}}\n",
            t + 500_000
        ));
    }
    std::fs::write(&trace, text).unwrap();
    let page = dir.join("long.html");
    let options = TimelineOptions {
        window: TimeWindow::ALL,
        detail_items_max: 2000,
        ..TimelineOptions::default()
    };
    view_file(&trace, &page, &options).unwrap();
    let dom = dump_dom(&chromium, &page, "#from=0&to=5000", &dir.join("profile"));
    assert_eq!(body_attr(&dom, "data-errors"), None, "script errors: {dom}");
    assert_eq!(attr(&dom, "cv", "data-mode").as_deref(), Some("density"));
    assert_eq!(count(&dom, "arrows"), 0);
    assert!(count(&dom, "density") > 100);
    // Zoomed in, inside the detail window, arrows again.
    let dom = dump_dom(&chromium, &page, "#from=100&to=140", &dir.join("profile"));
    assert_eq!(attr(&dom, "cv", "data-mode").as_deref(), Some("arrows"));
    assert!(
        (39..=42).contains(&count(&dom, "arrows")),
        "{}",
        count(&dom, "arrows")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
