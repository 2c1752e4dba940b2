//! Model cards (issue 17): front matter → `cardData` and `tags`; the README rendered
//! sanitised on the model page (attack: scripts, event handlers, `javascript:` links);
//! alias bombs in front matter stopped by the parser budget; the file viewer escapes.

use axum::http::StatusCode;

use crate::harness::hub;

const CARD: &[u8] = b"---
license: apache-2.0
tags:
  - vision
  - signed
base_model: acme/base
datasets: [imagenet-1k]
pipeline_tag: image-classification
library_name: timm
---
# Tiny model

Some **bold** text and a [link](https://example.com/docs).

<script>alert('x')</script>
<img src=x onerror=\"alert(1)\">
<a href=\"javascript:alert(2)\">click</a>

[md link](javascript:alert(3)) and [encoded](jav&#x09;ascript:alert(5))
<iframe src=\"https://evil.example\"></iframe>
<p onclick=\"alert(4)\" style=\"color:red\">para</p>
";

#[tokio::test]
async fn front_matter_fills_card_data_and_tags() {
    let h = hub().await;
    let r = h
        .push(
            &h.alice,
            "acme/tiny",
            &[("README.md", CARD), ("w.bin", b"0")],
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = h.get("/api/models/acme/tiny", None).await.json();
    assert_eq!(v["cardData"]["license"], "apache-2.0");
    assert_eq!(v["cardData"]["base_model"], "acme/base");
    assert_eq!(v["cardData"]["datasets"][0], "imagenet-1k");
    assert_eq!(v["pipeline_tag"], "image-classification");
    assert_eq!(v["library_name"], "timm");
    let tags: Vec<&str> = v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for t in [
        "vision",
        "signed",
        "timm",
        "license:apache-2.0",
        "dataset:imagenet-1k",
        "base_model:acme/base",
    ] {
        assert!(tags.contains(&t), "{t} in {tags:?}");
    }
    assert!(v["hallmark"]["card_error"].is_null());
    let list = h.get("/api/models?search=tiny", None).await.json();
    assert!(
        list[0]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "vision")
    );
    // The model list page shows the tags.
    let page = h.get("/", None).await.text();
    assert!(
        page.contains("<span class=\"badge tag\">vision</span>"),
        "{page}"
    );
}

#[tokio::test]
async fn readme_is_rendered_and_sanitised() {
    let h = hub().await;
    let r = h
        .push(&h.alice, "acme/tiny", &[("README.md", CARD)], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let page = h.get("/acme/tiny", None).await.text();
    let card = &page[page.find("id=\"model-card\"").expect("card rendered")..];
    let card = &card[..card.find("</div>").unwrap()];
    assert!(card.contains("<h1>Tiny model</h1>"), "{card}");
    assert!(card.contains("<strong>bold</strong>"), "{card}");
    assert!(card.contains("href=\"https://example.com/docs\""), "{card}");
    assert!(
        card.contains("rel=\"noopener noreferrer nofollow\""),
        "{card}"
    );
    let lower = card.to_ascii_lowercase();
    for bad in [
        "<script",
        "onerror",
        "onclick",
        "javascript:",
        "<iframe",
        "style=",
    ] {
        assert!(!lower.contains(bad), "{bad} survived: {card}");
    }
    assert!(card.contains(">md link</a>"), "{card}");
    // The front matter is not shown as text.
    assert!(!card.contains("pipeline_tag"), "{card}");
    assert!(page.contains("<span class=\"badge tag\">vision</span>"));
}

/// The classic alias bomb: nine levels of nine aliases, 9^9 ≈ 387 million strings if
/// expanded. The parser budget stops it; the push itself is not refused (the card is
/// data, the signature covers the bytes), the card's error says why it is not used.
#[tokio::test]
async fn alias_bomb_in_front_matter_is_stopped_by_the_budget() {
    let mut y = String::from(
        "---\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        y.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
    }
    y.push_str("---\n# boom\n");
    let h = hub().await;
    let r = h
        .push(&h.alice, "acme/bomb", &[("README.md", y.as_bytes())], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let start = std::time::Instant::now();
    let v = h.get("/api/models/acme/bomb", None).await.json();
    let took = start.elapsed();
    eprintln!("alias bomb: repo info answered in {took:?}");
    assert!(v["cardData"].is_null(), "{v}");
    let err = v["hallmark"]["card_error"].as_str().unwrap();
    assert!(err.contains("not valid YAML"), "{err}");
    assert_eq!(v["tags"], serde_json::json!([]));
    // The page still renders, with the reason.
    let page = h.get("/acme/bomb", None).await.text();
    assert!(page.contains("id=\"card-error\""));
    // Direct: the parser reports the budget breach, and the same document's first
    // level (9 strings) parses fine: it is the expansion that is refused.
    let e = hallmark_hub::card::parse(y.as_bytes()).error.unwrap();
    eprintln!("alias bomb: {e}");
    let small = hallmark_hub::card::parse(b"---\na: &a [1, 2]\nb: [*a, *a]\n---\n");
    assert_eq!(
        small.data.unwrap()["b"],
        serde_json::json!([[1, 2], [1, 2]])
    );
}

#[tokio::test]
async fn deep_nesting_and_oversized_front_matter_are_refused() {
    let deep = format!("---\na: {}{}\n---\n", "[".repeat(500), "]".repeat(500));
    let c = hallmark_hub::card::parse(deep.as_bytes());
    assert!(c.data.is_none() && c.error.is_some());
    let big = format!("---\na: \"{}\"\n---\n", "x".repeat(70_000));
    let c = hallmark_hub::card::parse(big.as_bytes());
    assert!(matches!(
        c.error,
        Some(hallmark_hub::card::CardError::FrontMatterTooLarge { .. })
    ));
}

#[tokio::test]
async fn file_viewer_escapes_text_and_declines_binary() {
    let h = hub().await;
    let big = vec![b'a'; 600 * 1024];
    let files: &[(&str, &[u8])] = &[
        ("notes.txt", b"<script>alert(1)</script>\nline 2\n"),
        ("w.bin", b"\0\x01\x02"),
        ("big.txt", &big),
    ];
    let r = h.push(&h.alice, "acme/files", files, false).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let commit = r.json()["commit"].as_str().unwrap().to_owned();
    let page = h.get("/acme/files", None).await.text();
    assert!(page.contains("600.0 KiB"), "human-readable size");
    assert!(page.contains(&format!("/acme/files/blob/{commit}/notes.txt")));
    let r = h
        .get(
            &format!("/acme/files/blob/{}/notes.txt", &commit[..7]),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let t = r.text();
    assert!(
        t.contains("&#60;script&#62;alert(1)&#60;/script&#62;") || t.contains("&lt;script&gt;"),
        "{t}"
    );
    assert!(!t.contains("<script>alert"), "{t}");
    let t = h
        .get(&format!("/acme/files/blob/{commit}/w.bin"), None)
        .await
        .text();
    assert!(t.contains("binary file"), "{t}");
    let t = h
        .get(&format!("/acme/files/blob/{commit}/big.txt"), None)
        .await
        .text();
    assert!(t.contains("larger than the viewer shows"), "{t}");
    let r = h
        .get(&format!("/acme/files/blob/{commit}/missing.txt"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
