//! Tokens: verifying a bearer JWT into the caller's [`Auth`] value (and
//! minting tokens for the CLI). What a caller may do is [`Auth`]'s rule, in
//! the model.
mod jwks;
mod keys;

pub use keys::{Claims, Verifier, mint_hs256};

pub use crate::model::{Auth, Capability, Role};
