//! Plain data and pure rules: ids, scopes, variables and the memory rules,
//! bots, users, conversations, messages, KV entries, tenants, events, the
//! caller's [`Auth`] and the janitor's records. Nothing here does I/O or
//! imports the domain, the store or the api; every other layer builds on it.
mod auth;
mod bot;
mod conversation;
mod duration;
mod events;
mod ids;
mod janitor;
mod kv;
mod memory;
mod message;
mod page;
mod quota;
mod schedule;
mod template;
mod tenant;
mod text;
mod user;
mod value;

pub use auth::*;
pub use bot::*;
pub use conversation::*;
pub use duration::*;
pub use events::*;
pub use ids::*;
pub use janitor::*;
pub use kv::*;
pub use memory::*;
pub use message::*;
pub use page::*;
pub use quota::*;
pub use schedule::*;
pub use template::*;
pub use tenant::*;
pub use text::*;
pub use user::*;
pub use value::*;
