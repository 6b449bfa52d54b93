//! message/rfc822 parts (forwarded submissions), summarised.

use encoding_rs::Encoding;
use mail_parser::{Message, PartType};

use super::{Forwarded, body, headers};

pub fn forwarded(
    msg: &Message<'_>,
    hint: Option<&'static Encoding>,
    defects: &mut Vec<String>,
) -> Vec<Forwarded> {
    let mut out = Vec::new();
    for part in &msg.parts {
        let PartType::Message(inner) = &part.body else {
            continue;
        };
        let mut inner_defects = Vec::new();
        out.push(Forwarded {
            message_id: headers::message_id(inner),
            from: headers::first_address(inner, "From", hint, &mut inner_defects),
            subject: headers::subject(inner, hint, &mut inner_defects),
            date: headers::date(inner),
            body_text: body::body_text(inner, hint, &mut inner_defects),
        });
        let n = out.len() - 1;
        defects.extend(
            inner_defects
                .into_iter()
                .map(|d| format!("forwarded message {n}: {d}")),
        );
    }
    out
}
