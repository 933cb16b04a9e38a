//! The root zone's KSR/SKR XML format (schema `ksr.rnc`, by Schlyter, Blacka and Abley).
//!
//! ```text
//! <KSR id="…" domain="." serial="1">
//!   <Request>
//!     <RequestPolicy><ZSK>…</ZSK></RequestPolicy>
//!     <RequestBundle id="…">
//!       <Inception>2017-04-01T00:00:00</Inception> <Expiration>…</Expiration>
//!       <Key keyIdentifier="…" keyTag="14796">…</Key>
//!       <Signature keyIdentifier="…">…</Signature>
//!     </RequestBundle>
//!   </Request>
//! </KSR>
//! ```
//!
//! The reader is strict about structure and lenient only about the quirks
//! real files have (zone-less times, zero-padded tags, CRLF, no XML
//! declaration). It never processes a DTD. The writer produces the layout
//! of the root's recent SKRs byte for byte.

mod read;
mod write;

pub use read::{parse, parse_ksr, parse_skr};
pub use write::{write_ksr, write_skr};
