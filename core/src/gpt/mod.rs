//! The GPT language core: configuration, model, key/value cache and generation.

mod batch;
mod cache;
mod config;
mod generate;
mod model;
pub mod model_dir;
mod token_set;
pub mod weights;

pub use batch::generate_batch;
pub use cache::KvCache;
pub use config::{ConfigError, GptConfig, Position};
pub use generate::{Decoder, Decoding, Finish, GenerateError, GenerateOptions, generate};
pub use model::Gpt;
pub use token_set::TokenSet;
