use super::*;
use crate::draft::DraftView;

#[test]
fn markdown_carries_title_metadata_body_and_attachments() {
    let mut draft = DraftView::sample("上好戰疫這堂課", "第一段。\n\n第二段。");
    draft.notes = "可發頭版".into();
    let md = render(Format::Markdown, &draft, None, &[]);
    assert!(md.starts_with("# 上好戰疫這堂課\n\n"), "{md}");
    assert!(md.contains("- 編號 Reference: SP-20261128-0007\n"), "{md}");
    assert!(
        md.contains("- 來源 From: 李明 <li.ming@example.org>\n"),
        "{md}"
    );
    assert!(md.contains("\n第一段。\n\n第二段。\n"), "{md}");
    assert!(md.contains("- 上好戰疫這堂課.docx (application/msword, 12800 bytes)"));
    assert!(md.ends_with("## 編者按 Notes\n\n可發頭版\n"), "{md}");
}

#[test]
fn a_title_with_line_breaks_stays_one_heading() {
    let draft = DraftView::sample("第一行\n# 第二行", "正文");
    let md = render(Format::Markdown, &draft, None, &[]);
    assert!(md.starts_with("# 第一行 # 第二行\n"), "{md}");
}

#[test]
fn html_export_escapes_text_and_sanitizes_submitted_html() {
    let draft = DraftView::sample("<b>標題</b>", "a < b & c");
    let plain = render(Format::Html, &draft, None, &[]);
    assert!(
        plain.contains("<h1>&lt;b&gt;標題&lt;/b&gt;</h1>"),
        "{plain}"
    );
    assert!(plain.contains("<p>a &lt; b &amp; c</p>"), "{plain}");

    let hostile = "<p onclick=\"x()\">正文</p><script>alert(1)</script>\
                   <img src=\"https://tracker.example.org/p.gif\"><a href=\"https://example.org\">連結</a>";
    let page = render(Format::Html, &draft, Some(hostile), &[]);
    assert!(page.contains("<p>正文</p>"), "{page}");
    for gone in ["script", "onclick", "tracker.example.org"] {
        assert!(!page.contains(gone), "{gone} survived: {page}");
    }
    assert!(page.contains("rel=\"noopener noreferrer\""), "{page}");
}

#[test]
fn json_export_holds_the_draft_and_its_history() {
    let draft = DraftView::sample("標題", "正文");
    let json: serde_json::Value =
        serde_json::from_str(&render(Format::Json, &draft, None, &[])).unwrap();
    assert_eq!(json["draft"]["reference"], "SP-20261128-0007");
    assert_eq!(json["events"], serde_json::json!([]));
}

#[test]
fn formats_parse_from_their_names() {
    assert_eq!("md".parse::<Format>(), Ok(Format::Markdown));
    assert_eq!("html".parse::<Format>(), Ok(Format::Html));
    assert!(
        "pdf"
            .parse::<Format>()
            .unwrap_err()
            .contains("md, html or json")
    );
}

#[test]
fn exports_carry_forwarded_originals_and_nested_attachments() {
    let mut draft = DraftView::sample("雨夜", "轉給投稿箱。");
    draft.forwarded = vec![crate::message::Forwarded {
        path: "1".into(),
        message_id: None,
        from: Some(crate::message::Address {
            name: Some("王芳".into()),
            address: "wang.fang@example.net".into(),
        }),
        subject: Some("投稿：雨夜".into()),
        date: None,
        body_text: "那天夜裡下著雨。".into(),
    }];
    let mut nested = draft.attachments[0].clone();
    nested.path = "1.0".into();
    nested.filename = Some("雨夜.docx".into());
    draft.attachments.push(nested);
    let md = render(Format::Markdown, &draft, None, &[]);
    assert!(
        md.contains("## 轉寄原稿 Forwarded 1: 投稿：雨夜\n\n- 來源 From: 王芳 <wang.fang@example.net>\n\n那天夜裡下著雨。\n"),
        "{md}"
    );
    assert!(md.contains("- 1.0 雨夜.docx (application/msword"), "{md}");
    assert!(
        md.contains("- 上好戰疫這堂課.docx (application/msword"),
        "{md}"
    );
    let page = render(Format::Html, &draft, None, &[]);
    assert!(
        page.contains("<h2>投稿：雨夜</h2><p>王芳 &lt;wang.fang@example.net&gt;</p>"),
        "{page}"
    );
    assert!(page.contains("<li>1.0 雨夜.docx"), "{page}");
}

#[test]
fn escaped_text_shows_bidi_overrides_instead_of_obeying_them() {
    assert_eq!(
        escape("invoice\u{202E}txt.exe <b>"),
        "invoice&lt;U+202E&gt;txt.exe &lt;b&gt;"
    );
}
