//! What one field costs, for the per-operation limit
//! (`BOTMEM_MAX_QUERY_COST`). async-graphql counts 1 per field; a list
//! costs its page size times what is selected below it, and fields that
//! read a whole memory or a user's data weigh more.
use crate::domain::MAX_MESSAGES_READ;

/// A memory read: all its live variables.
pub const MEMORY: usize = 10;
/// A user's export: every memory, conversation and message of theirs.
pub const EXPORT: usize = 200;

/// A page of up to `size` items (`first`/`last`, or its default). Sizes
/// past the largest page any field allows are refused by that field.
pub fn page(size: Option<i32>, default: i32, child_complexity: usize) -> usize {
    let size = size.unwrap_or(default).clamp(1, MAX_MESSAGES_READ) as usize;
    size.saturating_mul(child_complexity).saturating_add(1)
}
