//! Acknowledgements: decide (policy), compose, queue in the outbox with the
//! draft, and send with retries over one transport seam.

pub mod compose;
pub mod policy;
pub mod template;
