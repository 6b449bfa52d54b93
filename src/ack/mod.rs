//! Acknowledgements: decide who gets one (`policy`, pure), recognise
//! replies to them (`followup`, pure), compose (`compose` + `template`,
//! pure), queue them in the outbox with the draft (store), and send them
//! with retries (`outbox`) through one seam (`transport`, over `smtp`).

pub mod compose;
pub mod followup;
pub mod language;
pub mod letters;
pub mod outbox;
pub mod policy;
pub mod send_error;
pub mod smtp;
pub mod template;
pub mod transport;
