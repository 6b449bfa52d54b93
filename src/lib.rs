//! slushpile: a submissions mailbox turned into an editors' draft queue.
//! See ARCHITECTURE.md for the module map and the invariants.

pub mod message;
