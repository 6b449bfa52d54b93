//! message/rfc822 parts (forwarded submissions), summarised.

use encoding_rs::Encoding;

use super::attachments::Entry;
use super::{Forwarded, body, headers};

/// Every forwarded message among `entries`, nested ones included.
pub fn forwarded(
    entries: &[Entry<'_, '_>],
    hint: Option<&'static Encoding>,
    defects: &mut Vec<String>,
) -> Vec<Forwarded> {
    let mut out = Vec::new();
    for entry in entries {
        let Some(inner) = entry.forwarded() else {
            continue;
        };
        let mut inner_defects = Vec::new();
        out.push(Forwarded {
            path: entry.path.clone(),
            message_id: headers::message_id(inner),
            from: headers::first_address(inner, "From", hint, &mut inner_defects),
            subject: headers::subject(inner, hint, &mut inner_defects),
            date: headers::date(inner),
            body_text: body::body_text(inner, hint, &mut inner_defects),
        });
        defects.extend(
            inner_defects
                .into_iter()
                .map(|d| format!("forwarded message {}: {d}", entry.path)),
        );
    }
    out
}
