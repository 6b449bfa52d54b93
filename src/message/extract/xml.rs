//! A bounded walk over a document's XML: elements by local name (prefixes
//! differ between writers), text with entities resolved, nesting capped.
//! No DTD is read, so no entity can expand.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{Budget, Result, Stop};

pub(crate) enum Node<'e> {
    Open(&'e BytesStart<'e>),
    /// An element with no content (`<w:tab/>`): opened and closed at once.
    Empty(&'e BytesStart<'e>),
    Close(&'e str),
    Text(&'e str),
}

/// Calls `visit` for every node of `xml`, in document order.
pub(crate) fn walk(
    xml: &[u8],
    what: &str,
    budget: &Budget<'_>,
    mut visit: impl FnMut(Node<'_>),
) -> Result<()> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let broken = |e: &dyn std::fmt::Display| Stop::new(format!("{what}: malformed XML: {e}"));
    for n in 0u64.. {
        if n % 4096 == 0 {
            budget.tick()?;
        }
        buf.clear();
        match reader.read_event_into(&mut buf).map_err(|e| broken(&e))? {
            Event::Start(start) => {
                depth += 1;
                if depth > budget.max_depth() {
                    return Err(Stop::new(format!(
                        "{what}: XML nested deeper than {}",
                        budget.max_depth()
                    )));
                }
                visit(Node::Open(&start));
            }
            Event::Empty(start) => visit(Node::Empty(&start)),
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                visit(Node::Close(end.local_name().into_inner()));
            }
            Event::Text(text) => visit(Node::Text(&text.xml10_content())),
            Event::CData(data) => {
                visit(Node::Text(&data.into_inner()));
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    Ok(None) => {
                        let name = reference.xml10_content();
                        quick_xml::escape::unescape(&format!("&{name};"))
                            .ok()
                            .map(|s| s.into_owned())
                    }
                    Err(_) => None,
                };
                if let Some(text) = resolved {
                    visit(Node::Text(&text));
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
    Ok(())
}

/// The element's local name (`p` for `w:p`).
pub(crate) fn name<'a>(element: &'a BytesStart<'_>) -> &'a str {
    element.local_name().into_inner()
}

/// The value of the attribute with local name `local`.
pub(crate) fn attr(element: &BytesStart<'_>, local: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == local)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}
