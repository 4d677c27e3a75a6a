//! The pipeline format: the model, its loader (with located errors) and its editor.

pub mod edit;
pub(crate) mod fields;
mod load;
mod model;

pub use load::{load, parse, SPEC_FILE};
pub use model::*;
