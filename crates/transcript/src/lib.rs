//! The public record of a key ceremony (work in progress).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checkpoint;
pub mod cosignature;
mod error;
pub mod merkle;
pub mod note;

pub use error::Error;
