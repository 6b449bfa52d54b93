//! `[auth]`: who sent a submission, checked here (DKIM, SPF, DMARC) and/or
//! taken from the receiving provider's Authentication-Results header.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use super::duration;

/// What a DMARC failure does to a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnFail {
    /// Kept in the queue with its verdict shown (and no acknowledgement).
    #[default]
    Flag,
    /// Held as quarantined with the verdict as reason.
    Quarantine,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Compute DKIM, SPF and DMARC here (DNS lookups), rather than only
    /// trusting the provider's header.
    pub verify: bool,
    pub on_fail: OnFail,
    /// The receiving provider's authserv-id: only the topmost
    /// Authentication-Results header, and only with this id, is trusted
    /// (`[ack] authserv_id` is still read when this is unset).
    pub authserv_id: Option<String>,
    /// Names of the server that received the mail for us (`by` in its
    /// Received header, e.g. "mx.126.com"): SPF is checked for the address
    /// that server was connected from. Without one, SPF is `none`.
    pub receiving_hosts: Vec<String>,
    /// DNS servers (`"192.0.2.53:53"`); empty means /etc/resolv.conf.
    pub nameservers: Vec<SocketAddr>,
    /// Per DNS query; a message whose lookups do not answer in time gets
    /// `temperror`, never a stalled sync.
    #[serde(deserialize_with = "duration::deserialize")]
    pub dns_timeout: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            verify: true,
            on_fail: OnFail::Flag,
            authserv_id: None,
            receiving_hosts: Vec::new(),
            nameservers: Vec::new(),
            dns_timeout: Duration::from_secs(2),
        }
    }
}
